import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { provision, startServer, type TestServer } from './helpers/server.ts';

let srv: TestServer;
let dev: { id: string; secret: string };
const bytes = randomBytes(50_000);
const sha = createHash('sha256').update(bytes).digest('hex');
const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');

beforeAll(async () => {
  srv = await startServer();
  [dev] = await provision(srv, 1);
  mkdirSync(join(srv.dataDir, 'content'), { recursive: true });
  writeFileSync(join(srv.dataDir, 'content', sha), bytes);
});
afterAll(() => srv?.close());

describe('content fetch over HTTP', () => {
  it('serves content by sha256 to a device with its own credentials', async () => {
    const res = await fetch(`${srv.httpUrl}/api/device/content/${sha}`, { headers: { authorization: basic(dev.id, dev.secret) } });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
    expect(res.headers.get('etag')).toBe(`"${sha}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
  });

  it('resumes an interrupted download with a Range request', async () => {
    const res = await fetch(`${srv.httpUrl}/api/device/content/${sha}`, { headers: { authorization: basic(dev.id, dev.secret), range: 'bytes=40000-' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 40000-49999/50000`);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(40_000))).toBe(true);
  });

  it('honours If-Range with the content hash, and answers 416 with the size for a range past the end', async () => {
    const auth = { authorization: basic(dev.id, dev.secret) };
    const resumed = await fetch(`${srv.httpUrl}/api/device/content/${sha}`, { headers: { ...auth, range: 'bytes=49000-', 'if-range': `"${sha}"` } });
    expect(resumed.status).toBe(206);
    expect((await resumed.arrayBuffer()).byteLength).toBe(1000);
    const past = await fetch(`${srv.httpUrl}/api/device/content/${sha}`, { headers: { ...auth, range: 'bytes=60000-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe('bytes */50000');
  });

  it('refuses a wrong secret, a user token and no credentials', async () => {
    for (const authorization of [basic(dev.id, 'not-the-secret'), `Bearer ${srv.token}`, '']) {
      const res = await fetch(`${srv.httpUrl}/api/device/content/${sha}`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
    }
  });

  it('answers 404 for unknown content and 400 naming the field for a malformed hash', async () => {
    const missing = await fetch(`${srv.httpUrl}/api/device/content/${'0'.repeat(64)}`, { headers: { authorization: basic(dev.id, dev.secret) } });
    expect(missing.status).toBe(404);
    const bad = await fetch(`${srv.httpUrl}/api/device/content/..%2F..%2Fetc%2Fpasswd`, { headers: { authorization: basic(dev.id, dev.secret) } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe('params/sha256');
  });
});
