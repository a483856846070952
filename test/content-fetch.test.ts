import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, type TestServer } from './helpers/server.ts';

type Device = { id: string; secret: string };
let srv: TestServer;
let a: Device; // targeted by name
let b: Device; // same commune as a, not targeted by the first broadcast
let far: Device; // another commune
let sha: string;
let bytes: Buffer;
let broadcastId: string;
const basic = (d: Device, secret = d.secret) => 'Basic ' + Buffer.from(`${d.id}:${secret}`).toString('base64');
const get = (d: Device, hash: string, headers: Record<string, string> = {}) =>
  fetch(`${srv.httpUrl}/api/device/content/${hash}`, { headers: { authorization: basic(d), ...headers } });
/** Status of a fetch, with its body read: an unread 200 body keeps the connection busy and the server from closing. */
const statusOf = async (res: Promise<Response>) => {
  const r = await res;
  await r.arrayBuffer();
  return r.status;
};
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** Uploads a tone and sends it to `targets` an hour from now; returns the broadcast id and the stored file's hash. */
async function sendTone(seconds: number, hz: number, targets: object, level = 'normal'): Promise<{ id: string; sha256: string }> {
  const contentId = await uploadTone(srv, seconds, hz);
  const res = await srv.api('POST', '/api/broadcasts', { title: `Thông báo ${hz}`, level, source: { contentId }, targets, startAt: inAnHour() });
  if (res.status !== 201) throw new Error('broadcast failed: ' + JSON.stringify(res.body));
  return { id: res.body.id, sha256: (await srv.api('GET', `/api/content/${contentId}`)).body.sha256 };
}

beforeAll(async () => {
  srv = await startServer();
  [a, b] = await provision(srv, 2);
  [far] = await provision(srv, 1, 'other-commune');
  ({ id: broadcastId, sha256: sha } = await sendTone(12, 440, { clusterIds: [a.id] }));
  bytes = readFileSync(join(srv.dataDir, 'content', sha));
}, 60_000);
afterAll(() => srv?.close());

describe('content fetch over HTTP', () => {
  it('serves content in its manifest by sha256 to a device with its own credentials', async () => {
    const res = await get(a, sha);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
    expect(res.headers.get('etag')).toBe(`"${sha}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
  });

  it('resumes an interrupted download with a Range request', async () => {
    const from = bytes.length - 5000;
    const res = await get(a, sha, { range: `bytes=${from}-` });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${from}-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(from))).toBe(true);
  });

  it('honours If-Range with the content hash, and answers 416 with the size for a range past the end', async () => {
    const resumed = await get(a, sha, { range: `bytes=${bytes.length - 1000}-`, 'if-range': `"${sha}"` });
    expect(resumed.status).toBe(206);
    expect((await resumed.arrayBuffer()).byteLength).toBe(1000);
    const past = await get(a, sha, { range: `bytes=${bytes.length + 10}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  it('refuses a wrong secret, a user token and no credentials', async () => {
    for (const authorization of [basic(a, 'not-the-secret'), `Bearer ${srv.token}`, '']) {
      const res = await fetch(`${srv.httpUrl}/api/device/content/${sha}`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
    }
  });

  it('answers 404 for unknown content and 400 naming the field for a malformed hash', async () => {
    const missing = await get(a, '0'.repeat(64));
    expect(missing.status).toBe(404);
    const bad = await get(a, '..%2F..%2Fetc%2Fpasswd');
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe('params/sha256');
  });
});

describe('a cluster fetches only its own content', () => {
  it('answers another cluster 404, word for word as for content the server does not hold', async () => {
    const unknown = await (await get(b, '0'.repeat(64))).json();
    for (const d of [b, far]) {
      const res = await get(d, sha);
      expect(res.status, d.id).toBe(404);
      expect(await res.json(), d.id).toEqual(unknown);
    }
    // Even with a Range, so nothing about the file's size leaks through a 416 either.
    expect(await statusOf(get(b, sha, { range: `bytes=${bytes.length + 10}-` }))).toBe(404);
  });

  it('does not serve a stored file that is in no manifest at all, even to a cluster that has content', async () => {
    const loose = randomBytes(20_000);
    const looseSha = createHash('sha256').update(loose).digest('hex');
    writeFileSync(join(srv.dataDir, 'content', looseSha), loose);
    expect(await statusOf(get(a, looseSha))).toBe(404);
  });

  it('serves an order sent to a whole commune (group play) to each of its clusters, and to no one else', async () => {
    const area = await sendTone(3, 660, { areaIds: ['test-commune'] }, 'priority');
    for (const d of [a, b]) expect(await statusOf(get(d, area.sha256)), d.id).toBe(200);
    expect(await statusOf(get(far, area.sha256))).toBe(404);
  });

  it('stops serving a cluster its content once the broadcast is cancelled (no grace period)', async () => {
    expect(await statusOf(get(a, sha))).toBe(200);
    expect((await srv.api('POST', `/api/broadcasts/${broadcastId}/cancel`)).status).toBe(200);
    expect(await statusOf(get(a, sha))).toBe(404);
  });
});
