import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/** Clusters on public 4G use MQTTS; browsers and some gateways use MQTT over WebSocket. Same policy on both. */
let srv: TestServer;
let tlsPort = 0;
let cert = '';
let dev: { id: string; secret: string };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loa-tls-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, days: 1, extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }] } as any);
  cert = pems.cert;
  writeFileSync(join(dir, 'cert.pem'), pems.cert);
  writeFileSync(join(dir, 'key.pem'), pems.private);
  srv = await startServer({ LOA_MQTT_TLS_CERT: join(dir, 'cert.pem'), LOA_MQTT_TLS_KEY: join(dir, 'key.pem') });
  [dev] = await provision(srv, 1);
  tlsPort = srv.app.loa.tlsPort!;
});
afterAll(() => srv?.close());

describe('MQTTS', () => {
  it('accepts a device that trusts the certificate and applies the same credentials check', async () => {
    expect(tlsPort).toBeGreaterThan(0);
    const c = await connectRaw(`mqtts://localhost:${tlsPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, ca: cert, rejectUnauthorized: true });
    c.publish(`loa/v1/dev/${dev.id}/status`, '{"state":"online"}', { qos: 1, retain: true });
    await waitFor(async () => (await srv.api('GET', `/api/clusters/${dev.id}`)).body.health.online);
    c.end(true);
    await expect(connectRaw(`mqtts://localhost:${tlsPort}`, { clientId: dev.id, username: dev.id, password: 'wrong-secret-xxxxxxxxxxxx', ca: cert })).rejects.toThrow(/Bad username or password/);
  });

  it('is refused by a device that does not trust the certificate', async () => {
    await expect(connectRaw(`mqtts://localhost:${tlsPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, rejectUnauthorized: true })).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});

describe('MQTT over WebSocket', () => {
  it('serves the broker at /mqtt with the same authentication', async () => {
    const ws = srv.httpUrl.replace('http', 'ws') + '/mqtt';
    const c = await connectRaw(ws, { clientId: dev.id, username: dev.id, password: dev.secret });
    expect(c.connected).toBe(true);
    c.end(true);
    await expect(connectRaw(ws, { clientId: dev.id })).rejects.toThrow(/Not authorized/);
  });

  it('applies the packet size limit over WebSocket too', async () => {
    const ws = srv.httpUrl.replace('http', 'ws') + '/mqtt';
    const c = await connectRaw(ws, { clientId: dev.id, username: dev.id, password: dev.secret });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(`loa/v1/dev/${dev.id}/event`, Buffer.alloc(70_000, 'x'), { qos: 0 });
    await closed;
    expect((await srv.api('GET', '/metrics')).body).toMatch(/loa_mqtt_messages_rejected_total\{reason="packet_too_large"\} [1-9]/);
  });
});
