import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createDb, type Db } from '../server/src/db/client.ts';
import { AuditService } from '../server/src/audit/audit.service.ts';
import { AuditRepo } from '../server/src/audit/audit.repo.ts';
import { ContentRepo } from '../server/src/content/content.repo.ts';
import { ContentStore } from '../server/src/content/content-store.ts';
import { ContentService, type ContentLimits } from '../server/src/content/content.service.ts';
import { contentRoutes } from '../server/src/content/content.routes.ts';
import { JobQueue } from '../server/src/content/job-queue.ts';
import { systemActor } from '../server/src/shared/actor.ts';
import type { AppError } from '../server/src/shared/errors.ts';
import { bareApp, describe as describeAudio, loudness, makeBadFixtures, makeFormatFixtures, makeSignal, type AudioFixture } from './helpers/audio.ts';

const actor = systemActor('test');
const clock = { now: () => Date.now() };

interface Library {
  dir: string;
  db: Db;
  store: ContentStore;
  content: ContentService;
}
function library(limits: Partial<ContentLimits> = {}): Library {
  const dir = mkdtempSync(join(tmpdir(), 'loa-content-'));
  const db = createDb(':memory:');
  const store = new ContentStore(dir);
  return { dir, db, store, content: new ContentService(new ContentRepo(db), store, new AuditService(new AuditRepo(db), clock), clock, limits) };
}

/** Everything on disk under content/: hash-named files, originals, temp files. */
function storeFiles(store: ContentStore) {
  return {
    content: readdirSync(store.dir).filter((f) => /^[a-f0-9]{64}$/.test(f)).sort(),
    originals: readdirSync(store.originalsDir).sort(),
    tmp: readdirSync(store.tmpDir),
  };
}

let work: string;
let fixtures: AudioFixture[];
let lib: Library;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'loa-fixtures-'));
  fixtures = await makeFormatFixtures(work);
  lib = library();
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(lib.dir, { recursive: true, force: true });
});

describe('content ingest', () => {
  it('transcodes every accepted format to Opus in Ogg, mono 48 kHz, at −16 LUFS whatever the input level', async () => {
    const records = await Promise.all(fixtures.map((f) => lib.content.ingest(f.path, { source: 'upload', originalName: f.name }, actor)));
    for (const [i, r] of records.entries()) {
      const f = fixtures[i];
      expect(r.state, f.name).toBe('ready');
      const file = lib.store.pathOf(r.sha256!);
      expect(await describeAudio(file), f.name).toMatchObject({ container: 'ogg', codec: 'opus', sampleRate: 48000, channels: 'mono' });
      const measured = await loudness(file);
      expect(Math.abs(measured.i - -16), `${f.name} measured ${measured.i}`).toBeLessThanOrEqual(1);
      expect(Math.abs(r.loudness!.integratedLufs - measured.i), f.name).toBeLessThan(0.05);
      expect(r.loudness!.truePeakDbtp, f.name).toBeLessThanOrEqual(-1);
      expect(Math.abs(r.loudness!.inputLufs - f.lufs), `${f.name} input ${r.loudness!.inputLufs}`).toBeLessThan(4); // stereo → mono downmix reads ~3 LU lower
      expect(r.durationMs! / 1000, f.name).toBeCloseTo(3, 0);
      expect(r.bytes).toBe(statSync(file).size);
      expect(readdirSync(lib.store.originalsDir)).toContain(r.originalSha256);
    }
    const quiet = records.filter((_, i) => fixtures[i].lufs < -20).map((r) => r.loudness!.integratedLufs);
    const loud = records.filter((_, i) => fixtures[i].lufs > -20).map((r) => r.loudness!.integratedLufs);
    expect(Math.max(...quiet, ...loud) - Math.min(...quiet, ...loud)).toBeLessThanOrEqual(1);
    expect(Math.min(...records.map((r) => r.loudness!.inputLufs))).toBeLessThan(-30);
    expect(Math.max(...records.map((r) => r.loudness!.inputLufs))).toBeGreaterThan(-12);
    expect(storeFiles(lib.store).tmp).toEqual([]);
  });

  it('stores an identical upload once and returns the same item without transcoding again', async () => {
    const first = await lib.content.ingest(fixtures[0].path, { source: 'upload' }, actor);
    const before = storeFiles(lib.store);
    const again = await lib.content.ingest(fixtures[0].path, { source: 'upload', title: 'again' }, actor);
    expect(again.id).toBe(first.id);
    expect(again.sha256).toBe(first.sha256);
    expect(storeFiles(lib.store)).toEqual(before);
    expect((await lib.content.list({ limit: 500 })).filter((r) => r.originalSha256 === first.originalSha256)).toHaveLength(1);
  });

  it('shares one stored file between items whose audio is identical (a re-tagged copy)', async () => {
    const a = await makeSignal(join(work, 'tagged-a.wav'), { lufs: -20, seconds: 2, seed: 3, args: ['-ac', '1', '-metadata', 'title=Thông báo'] });
    const b = await makeSignal(join(work, 'tagged-b.wav'), { lufs: -20, seconds: 2, seed: 3, args: ['-ac', '1', '-metadata', 'title=Tin khẩn'] });
    const [ra, rb] = await Promise.all([lib.content.ingest(a, { source: 'upload' }, actor), lib.content.ingest(b, { source: 'upload' }, actor)]);
    expect(ra.id).not.toBe(rb.id);
    expect(ra.originalSha256).not.toBe(rb.originalSha256);
    expect(rb.sha256).toBe(ra.sha256);
  });

  it('joins concurrent uploads of the same file into one item', async () => {
    const f = await makeSignal(join(work, 'twice.wav'), { lufs: -25, seconds: 2, seed: 11, args: ['-ac', '1'] });
    const [x, y] = await Promise.all([lib.content.ingest(f, { source: 'upload' }, actor), lib.content.ingest(f, { source: 'upload' }, actor)]);
    expect(y.id).toBe(x.id);
  });

  it.each([
    ['a picture renamed .mp3', 'png', 415, /no audio stream/],
    ['a text file renamed .mp3', 'text', 415, /not an audio file/],
    ['a zero-length file', 'empty', 400, /empty/],
    ['the first half of an mp3', 'truncated', 422, /truncated/],
    ['an mp3 with garbage in the middle', 'damaged', 422, /damaged/],
    ['digital silence', 'silent', 422, /no audible sound/],
  ] as const)('refuses %s with a 4xx naming body/file and leaves nothing behind', async (_, key, status, message) => {
    const bad = await makeBadFixtures(work, fixtures[0].path);
    const before = storeFiles(lib.store);
    const readyBefore = (await lib.content.list({ limit: 500 })).filter((r) => r.state === 'ready').length;
    const err = (await lib.content.ingest(bad[key], { source: 'upload' }, actor).catch((e) => e)) as AppError;
    expect(err.statusCode).toBe(status);
    expect(err.field).toBe('body/file');
    expect(err.message).toMatch(message);
    expect(storeFiles(lib.store)).toEqual(before);
    expect((await lib.content.list({ limit: 500 })).filter((r) => r.state === 'ready')).toHaveLength(readyBefore);
  });

  it('marks an item failed with the reason when damage shows only in the full decode', async () => {
    const bad = await makeBadFixtures(work, fixtures[0].path);
    const { record, done } = await lib.content.submit(bad.truncated, { source: 'upload' }, actor);
    expect(record.state).toBe('transcoding');
    await expect(done).rejects.toMatchObject({ statusCode: 422, field: 'body/file' });
    expect(await lib.content.get(record.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/truncated/), sha256: null, progress: null });
    await expect(lib.content.playable(record.id)).rejects.toMatchObject({ statusCode: 409 });
  });

  it('refuses audio longer than the configured limit, whether declared in the header or found by decoding', async () => {
    const short = library({ maxDurationS: 2 });
    const declared = await makeSignal(join(work, 'long.flac'), { lufs: -20, seconds: 3, args: ['-ac', '1', '-c:a', 'flac'] });
    // No Xing header: ffmpeg only estimates the length, so the limit is enforced by the decode itself.
    const estimated = await makeSignal(join(work, 'long-noxing.mp3'), { lufs: -20, seconds: 3, args: ['-ac', '1', '-c:a', 'libmp3lame', '-write_xing', '0'] });
    for (const f of [declared, estimated]) {
      const err = (await short.content.ingest(f, { source: 'upload' }, actor).catch((e) => e)) as AppError;
      expect(err).toMatchObject({ statusCode: 422, field: 'body/file' });
      expect(err.message).toMatch(/0:03 long; the limit is 0:02/);
    }
    expect(storeFiles(short.store)).toEqual({ content: [], originals: [], tmp: [] });
    expect(await short.content.list()).toEqual([]);
    rmSync(short.dir, { recursive: true, force: true });
  });

  it('reports transcode progress while it works and answers playable() once ready', async () => {
    const f = await makeSignal(join(work, 'ninety.flac'), { lufs: -30, seconds: 90, args: ['-ac', '1', '-ar', '16000', '-c:a', 'flac'] });
    const { record, done } = await lib.content.submit(f, { source: 'upload', title: 'Bản tin 90 giây' }, actor);
    await expect(lib.content.playable(record.id)).rejects.toMatchObject({ statusCode: 409 });
    const seen: number[] = [];
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      const p = (await lib.content.get(record.id)).progress;
      if (p !== null && p !== seen.at(-1)) seen.push(p);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = await done;
    expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // never goes backwards
    expect(ready).toMatchObject({ state: 'ready', progress: null, title: 'Bản tin 90 giây' });
    expect(await lib.content.playable(record.id)).toEqual({ sha256: ready.sha256, size: ready.bytes, durationMs: ready.durationMs });
    expect(ready.durationMs).toBeGreaterThan(89_000);
    await expect(lib.content.playable('ct-unknown00')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('marks items a crash left unfinished as failed when the service starts again', async () => {
    const l = library();
    await new ContentRepo(l.db).insert({ id: 'ct-crashed001', state: 'transcoding', source: 'upload', createdAt: Date.now() });
    writeFileSync(join(l.store.tmpDir, 'half-written'), 'x');
    const restarted = new ContentService(new ContentRepo(l.db), l.store, new AuditService(new AuditRepo(l.db), clock), clock);
    await restarted.start();
    expect(await restarted.get('ct-crashed001')).toMatchObject({ state: 'failed', error: expect.stringMatching(/interrupted/) });
    expect(storeFiles(l.store).tmp).toEqual([]);
    rmSync(l.dir, { recursive: true, force: true });
  });
});

describe('transcode queue', () => {
  it('runs at most `concurrency` jobs at once, in arrival order', async () => {
    const q = new JobQueue(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        q.run(async () => {
          order.push(i);
          peak = Math.max(peak, ++running);
          await new Promise((r) => setTimeout(r, 10));
          running--;
          if (i === 2) throw new Error('one job failing frees its slot');
        }).catch(() => undefined),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(q.active).toBe(0);
  });
});

describe('content over HTTP', () => {
  let app: FastifyInstance;
  let url: string;
  let http: Library;

  beforeAll(async () => {
    http = library({ maxUploadBytes: 1536 * 1024 });
    app = await bareApp(async (a) => {
      await a.register(contentRoutes, { services: { content: http.content }, prefix: '/api' });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(http.dir, { recursive: true, force: true });
  });

  const upload = (file: string, opts: { query?: string; title?: string; role?: string; name?: string } = {}) => {
    const form = new FormData();
    if (opts.title) form.append('title', opts.title);
    form.append('file', new Blob([readFileSync(file)]), opts.name ?? 'ban-tin.mp3');
    return fetch(`${url}/api/content${opts.query ?? ''}`, { method: 'POST', body: form, headers: opts.role ? { 'x-role': opts.role } : {} });
  };

  it('uploads through multipart and answers 201 with the loudness once transcoded', async () => {
    const res = await upload(fixtures[0].path, { title: 'Thông báo tiêm chủng' });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ id: expect.any(String), state: 'ready', title: 'Thông báo tiêm chủng', originalName: 'ban-tin.mp3', source: 'upload', createdBy: 'us-operator' });
    expect(body.sha256).toMatch(/^[a-f0-9]{64}$/);
    expect(Math.abs(body.loudness.integratedLufs + 16)).toBeLessThanOrEqual(1);
    expect(body.loudness.inputLufs).toBeLessThan(-30);
    expect(body.durationMs).toBeGreaterThan(2500);

    const got = await (await fetch(`${url}/api/content/${body.id}`)).json();
    expect(got).toEqual(body);
    const list = await (await fetch(`${url}/api/content?limit=10`)).json();
    expect(list.map((c: { id: string }) => c.id)).toContain(body.id);
    expect(storeFiles(http.store).tmp).toEqual([]);
  });

  it('answers 202 at once with wait=false; the item can be polled until ready', async () => {
    const res = await upload(fixtures[3].path, { query: '?wait=false', name: 'loud.ogg' });
    expect(res.status).toBe(202);
    const { id, state } = await res.json();
    expect(state).toBe('transcoding');
    let item: { state: string } = { state };
    for (let i = 0; i < 200 && item.state === 'transcoding'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      item = await (await fetch(`${url}/api/content/${id}`)).json();
    }
    expect(item.state).toBe('ready');
  });

  it('serves the transcoded audio for preview, with Range', async () => {
    const [item] = await http.content.list({ limit: 1 });
    const stored = readFileSync(http.store.pathOf(item.sha256!));
    const full = await fetch(`${url}/api/content/${item.id}/audio`);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('audio/ogg');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await full.arrayBuffer()).equals(stored)).toBe(true);
    const part = await fetch(`${url}/api/content/${item.id}/audio`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${stored.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(stored.subarray(100, 200))).toBe(true);
    const tail = await fetch(`${url}/api/content/${item.id}/audio`, { headers: { range: 'bytes=-50' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(stored.subarray(-50))).toBe(true);
    const past = await fetch(`${url}/api/content/${item.id}/audio`, { headers: { range: `bytes=${stored.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${stored.length}`);
  });

  it('refuses a bad file with its reason and field body/file', async () => {
    const bad = await makeBadFixtures(work, fixtures[0].path);
    const res = await upload(bad.png, { name: 'anh.mp3' });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ statusCode: 415, field: 'body/file', message: expect.stringMatching(/no audio/) });
    expect(storeFiles(http.store)).toMatchObject({ tmp: [] });
  });

  it('takes uploads beyond Fastify\'s JSON body limit, and refuses one over its own limit with 413 naming body/file', async () => {
    // 1.15 MB: more than the 1 MB default bodyLimit of this bare app (buildApp's is 8 MB; uploads may be 50 MB).
    const large = await makeSignal(join(work, 'large.wav'), { lufs: -20, seconds: 6, args: ['-ac', '2', '-ar', '48000'] });
    expect((await upload(large, { name: 'large.wav' })).status).toBe(201);
    const big = await makeSignal(join(work, 'big.wav'), { lufs: -20, seconds: 10, args: ['-ac', '2', '-ar', '48000'] }); // 1.9 MB
    const before = storeFiles(http.store);
    const res = await upload(big, { name: 'big.wav' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ statusCode: 413, field: 'body/file', message: 'the file is larger than the 1.5 MB limit' });
    expect(storeFiles(http.store)).toEqual(before);
  });

  it('answers a file that fails in transcoding with 422 naming the cause, and lists nothing for it (wait=true and wait=false)', async () => {
    const bad = await makeBadFixtures(work, fixtures[0].path);
    const listed = await (await fetch(`${url}/api/content?limit=500`)).json();
    const before = storeFiles(http.store);
    const res = await upload(bad.truncated, { name: 'cat-ngang.mp3' });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ statusCode: 422, field: 'body/file', message: expect.stringMatching(/truncated/) });

    const accepted = await upload(bad.silent, { query: '?wait=false', name: 'im-lang.wav' });
    expect(accepted.status).toBe(202);
    const { id } = await accepted.json();
    let item = { state: 'transcoding', error: null as string | null };
    for (let i = 0; i < 200 && item.state === 'transcoding'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      item = await (await fetch(`${url}/api/content/${id}`)).json();
    }
    expect(item).toMatchObject({ state: 'failed', error: expect.stringMatching(/no audible sound/) });
    expect(await (await fetch(`${url}/api/content?limit=500`)).json()).toEqual(listed);
    expect(storeFiles(http.store)).toEqual(before);
  });

  it('deletes an item for the roles that upload: 204, then neither served nor listed', async () => {
    const f = await makeSignal(join(work, 'to-delete.wav'), { lufs: -22, seconds: 2, seed: 21, args: ['-ac', '1'] });
    const { id, sha256 } = await (await upload(f, { name: 'xoa.wav' })).json();
    const del = (role?: string) => fetch(`${url}/api/content/${id}`, { method: 'DELETE', headers: role ? { 'x-role': role } : {} });
    for (const role of ['viewer', 'technician']) {
      const refused = await del(role);
      expect(refused.status, role).toBe(403);
      expect((await refused.json()).statusCode).toBe(403);
    }
    expect((await del()).status).toBe(204);
    expect(http.store.has(sha256)).toBe(false);
    expect((await fetch(`${url}/api/content/${id}`)).status).toBe(404);
    expect((await fetch(`${url}/api/content/${id}/audio`)).status).toBe(404);
    expect((await (await fetch(`${url}/api/content?limit=500`)).json()).map((c: { id: string }) => c.id)).not.toContain(id);
    const again = await del();
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ field: 'params/id' });
  });

  it('refuses a body that is not multipart, a missing file and a role that may not upload', async () => {
    const json = await fetch(`${url}/api/content`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(415);
    expect((await json.json()).field).toBe('body/file');
    const form = new FormData();
    form.append('title', 'không có tệp');
    const none = await fetch(`${url}/api/content`, { method: 'POST', body: form });
    expect(none.status).toBe(400);
    expect((await none.json()).field).toBe('body/file');
    expect((await upload(fixtures[0].path, { role: 'viewer' })).status).toBe(403);
    expect((await fetch(`${url}/api/content/ct-missing000`)).status).toBe(404);
  });
});
