import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.ts';
import { loadConfig } from '../../server/src/config.ts';

/** A server with no admin yet (no LOA_ADMIN_PASSWORD): it issues the one-time setup token instead. */
export async function startFreshServer(): Promise<{ app: FastifyInstance; httpUrl: string; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loa-e2e-'));
  const config = loadConfig({ LOA_DATA_DIR: dataDir, LOA_HTTP_HOST: '127.0.0.1', LOA_HTTP_PORT: '0', LOA_MQTT_HOST: '127.0.0.1', LOA_MQTT_PORT: '0', LOA_MQTT_TLS_PORT: '0', LOA_LOG_LEVEL: 'silent' });
  const app = await buildApp({ config, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return {
    app,
    httpUrl: `http://127.0.0.1:${addr.port}`,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
