/** Reading a FleetFile (schemas/fleet-file.ts) with errors that name the file, the member and the field. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { FleetFileSchema, type FleetFile } from '../../schemas/fleet-file.ts';

const check = TypeCompiler.Compile(FleetFileSchema);

export class FleetFileError extends Error {}

export function parseFleetFile(text: string, source: string): FleetFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FleetFileError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!check.Check(value)) {
    const errors = [...check.Errors(value)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new FleetFileError(`${source}: not a fleet file — ${errors.join('; ')}`);
  }
  const seen = new Set<string>();
  value.clusters.forEach((c, i) => {
    if (seen.has(c.id)) throw new FleetFileError(`${source}: /clusters/${i}/id: duplicate cluster id "${c.id}"`);
    seen.add(c.id);
    const idx = new Set<number>();
    c.outputs.forEach((o, j) => {
      if (idx.has(o.index)) throw new FleetFileError(`${source}: /clusters/${i}/outputs/${j}/index: duplicate output index ${o.index}`);
      idx.add(o.index);
    });
  });
  return value;
}

export async function loadFleetFile(path: string): Promise<FleetFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FleetFileError(`${path}: cannot read fleet file (${code ?? (e as Error).message})`);
  }
  return parseFleetFile(text, path);
}

/** Where the server writes the demo fleet. */
export function demoFleetPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.LOA_DATA_DIR || './data', 'demo-fleet.json');
}
