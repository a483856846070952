import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** `npm start` as a user runs it: one process, demo fleet in-process, SIGTERM → clean exit 0. */
describe('server process', () => {
  it('starts with LOA_DEMO=1, brings the demo fleet online, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loa-proc-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: root,
      env: { ...process.env, LOA_DATA_DIR: dataDir, LOA_HTTP_HOST: '127.0.0.1', LOA_HTTP_PORT: '0', LOA_MQTT_HOST: '127.0.0.1', LOA_MQTT_PORT: '0', LOA_DEMO: '1', LOA_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 25_000;
      while (!out.includes('demo fleet started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('demo fleet started');
      // No admin and no LOA_ADMIN_PASSWORD: a one-time setup link, never a default password.
      expect(out).toMatch(/setup\?token=[A-Za-z0-9_-]{22,}/);
      const port = Number(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      expect(health).toMatchObject({ status: 'ok', db: 'ok', broker: 'ok' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped cleanly');
      expect(existsSync(join(dataDir, 'loa.sqlite'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
