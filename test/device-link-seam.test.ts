import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The device link seam (issue 13, "The seams"): services and device handlers reach devices only through DeviceLink
 * (server/src/mqtt/device-link.ts), so the embedded aedes broker can be swapped for an external one. These checks
 * read the source: a new import of aedes, or a new reach into its undocumented client table, fails here first.
 */
const root = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}
const read = (file: string) => readFileSync(join(root, file), 'utf8');
/** The code of a file without its comment lines (a comment may name what the code must not touch). */
const code = (file: string) => read(file).split('\n').filter((l) => !/^\s*(\*|\/\*|\/\/)/.test(l)).join('\n');
const imports = (file: string) => [...read(file).matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);

/** The embedded broker: its construction, its policy hooks and the link over it. Nothing else in the server sees aedes. */
const EMBEDDED = ['server/src/mqtt/broker.ts', 'server/src/mqtt/policy.ts', 'server/src/mqtt/embedded-link.ts'];
/** The composition root, which picks the link (and so the only importer of the embedded one). */
const ROOT = 'server/src/app.ts';
const server = sources('server/src').filter((f) => !f.endsWith('.test.ts'));

describe('the device link seam', () => {
  it('keeps aedes inside the embedded link, its broker and its policy', () => {
    const offenders = server.filter((f) => !EMBEDDED.includes(f) && imports(f).some((m) => m === 'aedes' || m.startsWith('aedes/')));
    expect(offenders).toEqual([]);
  });

  it('lets only the composition root choose the embedded link', () => {
    const embedded = EMBEDDED.map((f) => f.split('/').pop()!);
    const offenders = server.filter((f) => f !== ROOT && !EMBEDDED.includes(f) && imports(f).some((m) => embedded.some((e) => m.endsWith(`/${e}`))));
    expect(offenders).toEqual([]);
  });

  it("has no code reach into aedes' undocumented client table, in the server or its tests", () => {
    const files = [...sources('server'), ...sources('test'), ...sources('firmware-sim'), ...sources('bench')].filter((f) => f !== 'test/device-link-seam.test.ts');
    const touches = /\bbroker\b[^\n]*\.clients\b|\bclients\s*:\s*Record\s*</;
    expect(files.filter((f) => touches.test(code(f)))).toEqual([]);
  });

  it('gives device handlers the link, not the broker', () => {
    const src = read('server/src/mqtt/device-handlers.ts');
    expect(src).toMatch(/export function attachDeviceHandlers\(link: DeviceLink\b/);
  });
});
