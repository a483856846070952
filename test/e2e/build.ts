import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
/** Inside node_modules (ignored by git); a directory, since mkdir is atomic. */
const LOCK = join(ROOT, 'node_modules', '.cache', 'loa-web-build.lock');
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The E2E suites test the built console; this builds it when web/dist is missing or stale (a no-op otherwise).
 * Test files run in parallel workers: one builds while the others wait, since two builds would empty each other's
 * web/dist.
 */
export function ensureBuilt(): void {
  mkdirSync(join(LOCK, '..'), { recursive: true });
  const until = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed run is taken over after 3 minutes (a build takes seconds).
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 180_000) rmdirSync(LOCK);
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > until) throw new Error(`web build lock ${LOCK} held too long`);
      sleep(200);
    }
  }
  try {
    execFileSync(process.execPath, [join(ROOT, 'web', 'build-if-stale.mjs')], { stdio: 'inherit' });
  } finally {
    rmdirSync(LOCK);
  }
}
