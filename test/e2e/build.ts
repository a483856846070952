import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The E2E suites test the built console; this builds it when web/dist is missing or stale (a no-op otherwise). */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'web', 'build-if-stale.mjs')], { stdio: 'inherit' });
}
