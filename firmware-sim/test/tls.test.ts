import { createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../src/index.ts';
import { OUTPUTS, SECRET, waitFor } from './harness.ts';

let broker: Aedes;
let server: ReturnType<typeof createServer>;
let url = '';
let cert = '';

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    days: 1,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  } as never);
  cert = pems.cert;
  broker = await Aedes.createBroker({ heartbeatInterval: 3_600_000 });
  server = createServer({ cert: pems.cert, key: pems.private }, broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => broker.close(() => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

describe('mqtts://', () => {
  it('connects when it trusts the server certificate', async () => {
    const c = new SimCluster({ url, id: 'cum-tls', secret: SECRET, outputs: OUTPUTS, ca: cert });
    await c.start();
    expect(c.online).toBe(true);
    await c.stop();
  });

  it('refuses an untrusted certificate unless told not to verify', async () => {
    const strict = new SimCluster({ url, id: 'cum-tls-strict', secret: SECRET, outputs: OUTPUTS, reconnectPeriodMs: 50 });
    void strict.start();
    const err = await new Promise<Error>((r) => strict.once('connectError', r));
    expect(err.message).toMatch(/self[- ]signed|certificate/i);
    expect(strict.online).toBe(false);
    await strict.stop();
    const lax = new SimCluster({ url, id: 'cum-tls-lax', secret: SECRET, outputs: OUTPUTS, rejectUnauthorized: false });
    await lax.start();
    await waitFor(() => lax.online);
    await lax.stop();
  });
});
