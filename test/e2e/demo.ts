import { expect } from 'vitest';
import { startDemo } from '../../server/src/demo/start-demo.ts';
import { ADMIN_PASSWORD, startServer, waitFor, type TestServer } from '../helpers/server.ts';
import { launch } from './browser.ts';
import { ensureBuilt } from './build.ts';

export const ADMIN = { username: 'admin', password: ADMIN_PASSWORD };
export interface Account {
  username: string;
  password: string;
  role: string;
  areaIds: string[];
}

/**
 * The real server with the demo fleet (Đồng Thạnh 18 clusters, Bình Phú 16, simulated over real MQTT), the given
 * accounts, and one Chromium. Each test file gets its own: files run in parallel workers.
 */
export async function startDemoConsole(accounts: Account[] = [], opts: { fakeMicrophone?: string } = {}) {
  ensureBuilt();
  const srv = await startServer();
  const demo = await startDemo(srv.app, srv.mqttPort, Number(new URL(srv.httpUrl).port));
  for (const a of accounts) expect((await srv.api('POST', '/api/users', a)).status).toBe(201);
  const b = await launch(opts);
  await waitFor(async () => (await srv.api('GET', '/api/clusters?online=true')).body.total === 34, 30_000, 250);
  return {
    srv,
    demo,
    browser: b.browser,
    /** API calls as another user (bearer token from a real sign-in). */
    async as(username: string, password: string) {
      const r = await srv.api('POST', '/api/auth/login', { username, password }, '');
      expect(r.status).toBe(200);
      return (method: string, url: string, body?: unknown) => srv.api(method, url, body, r.body.token);
    },
    async close() {
      await b.close();
      await demo.stop();
      await srv.close();
    },
  };
}
export type DemoConsole = Awaited<ReturnType<typeof startDemoConsole>>;
export type { TestServer };
