import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { runFfmpeg } from '../../server/src/content/ffmpeg.ts';
import { createDb, type Db } from '../../server/src/db/client.ts';
import type { Publisher } from '../../server/src/mqtt/publisher.ts';
import { createServices, type Services } from '../../server/src/services.ts';
import { systemActor, type Actor } from '../../server/src/shared/actor.ts';

/** A clock the test moves by hand: `clock.t += ms`. */
export interface FakeClock {
  t: number;
  now(): number;
}

export function fakeClock(at = '2026-11-24T01:00:00Z'): FakeClock {
  return { t: Date.parse(at), now() { return this.t; } };
}

/** A temporary directory, removed when the current test finishes. */
export function testDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The services of a server (no HTTP, no broker) over `db`, with everything they send going to `publisher`. */
export function servicesOn(db: Db, dataDir: string, clock: FakeClock, publisher: Publisher): Promise<Services> {
  return createServices(loadConfig({ LOA_DATA_DIR: dataDir }), db, clock, publisher);
}

/** Ingests a sine tone through the real content pipeline (ffmpeg); returns the content id and its duration. */
export async function ingestTone(s: Services, dataDir: string, actor: Actor, seconds = 1, hz = 440): Promise<{ id: string; durationMs: number }> {
  const wav = join(dataDir, `tone-${seconds}s-${hz}.wav`);
  const run = await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=${seconds}`, wav]);
  if (run.code !== 0) throw new Error(run.stderr);
  const content = await s.content.ingest(wav, { source: 'upload', originalName: `tone-${hz}.wav` }, actor);
  return { id: content.id, durationMs: content.durationMs! };
}

/**
 * One commune (`xa`) with one cluster (output 0) and a 1-second tone, on an in-memory database with a fake clock:
 * the service-level setup shared by the manifest and broadcast-window suites.
 */
export async function oneClusterCommune(opts: { dirPrefix: string; serial: string; publisher: Publisher }) {
  const dataDir = testDir(opts.dirPrefix);
  const clock = fakeClock();
  const db = createDb(':memory:');
  const s = await servicesOn(db, dataDir, clock, opts.publisher);
  const actor = systemActor('test');
  await s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune' });
  const [c] = await s.clusters.create([{ name: 'Cụm', areaId: 'xa', serial: opts.serial, outputs: [{ index: 0, label: 'Loa' }] }], actor);
  const tone = await ingestTone(s, dataDir, actor);
  return { s, db, dataDir, clock, actor, clusterId: c.clusterId, contentId: tone.id, toneMs: tone.durationMs };
}
