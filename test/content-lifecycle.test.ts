import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlayItem } from '../schemas/device-protocol/playback.ts';
import { ContentRepo } from '../server/src/content/content.repo.ts';
import { ContentService, FAILED_KEPT_MS } from '../server/src/content/content.service.ts';
import { makeBadFixtures, makeSignal } from './helpers/audio.ts';
import { oneClusterCommune } from './helpers/services.ts';

/**
 * Issue 9 §1: failed uploads stayed in the library and nothing could be deleted. These run the real services (content,
 * broadcasts, manifests, TTS) over one SQLite database and a real content store, with a clock moved by hand.
 */
const publisher = { publish: async () => undefined };
const setup = (serial: string) => oneClusterCommune({ dirPrefix: 'loa-life-', serial, publisher });
const at = (t: number) => new Date(t).toISOString();
type Thrown = { statusCode: number; message: string; field?: string; details?: unknown[] };
async function thrown(fn: () => unknown): Promise<Thrown> {
  try {
    await fn();
  } catch (e) {
    return e as Thrown;
  }
  throw new Error('did not throw');
}

describe('deleting content', () => {
  it('is refused while a broadcast not yet over airs it, naming the broadcast; once cancelled, the item and its files go', async () => {
    const { s, actor, clock, clusterId, contentId } = await setup('LF1');
    const item = await s.content.get(contentId);
    const b = await s.broadcasts.create({ title: 'Họp tổ dân phố số 3', level: 'normal', source: { contentId }, targets: { clusterIds: [clusterId] }, startAt: at(clock.t + 3_600_000) }, actor);
    await s.backlog.idle();

    const err = await thrown(() => s.content.remove(contentId, actor));
    expect(err).toMatchObject({ statusCode: 409, field: 'params/id', details: [{ broadcastId: b.id, title: 'Họp tổ dân phố số 3', state: 'scheduled' }] });
    expect(err.message).toMatch(/Họp tổ dân phố số 3/);
    expect((await s.content.get(contentId)).state).toBe('ready');
    expect(s.contentStore.has(item.sha256!)).toBe(true);

    await s.broadcasts.cancel(b.id, actor);
    expect(await s.content.remove(contentId, actor)).toEqual({ fileRemoved: true });
    await expect(s.content.get(contentId)).rejects.toMatchObject({ statusCode: 404 });
    await expect(s.content.playable(contentId)).rejects.toMatchObject({ statusCode: 404 });
    expect((await s.content.list({ limit: 500 })).map((c) => c.id)).not.toContain(contentId);
    expect(s.contentStore.has(item.sha256!)).toBe(false);
    expect(existsSync(s.contentStore.originalPath(item.originalSha256!))).toBe(false);
    expect(await s.audit.list({ action: 'content.delete' })).toMatchObject([{ targetId: contentId }]);
    // The cancelled broadcast still names what it was to air.
    expect((await s.broadcasts.get(b.id, actor)).contentId).toBe(contentId);
    await expect(s.content.remove(contentId, actor)).rejects.toMatchObject({ statusCode: 404 });
  }, 30_000);

  it('keeps the file while a manifest still lists it, and prunes it once the item has expired', async () => {
    const { s, actor, clock, clusterId, contentId } = await setup('LF2');
    const { sha256, bytes, durationMs } = await s.content.get(contentId);
    // What a broadcast that is over but not yet expired leaves in a cluster's manifest.
    const item: PlayItem = {
      id: 'bc-over0001', broadcastId: 'bc-over0001', level: 'normal', content: { sha256: sha256!, size: bytes!, durationMs: durationMs! },
      startAt: clock.t, expiresAt: clock.t + 3_600_000, volume: null, outputs: null, repeat: { count: 1, intervalS: 0 }, onPreempt: 'resume',
    };
    await s.manifests.put([{ clusterId, item }]);
    expect(await s.manifests.holdsContent(sha256!, clusterId)).toBe(true);

    expect(await s.content.remove(contentId, actor)).toEqual({ fileRemoved: false });
    expect(s.contentStore.has(sha256!)).toBe(true);
    expect(await s.content.prune()).toEqual({ failed: 0, files: 0 });

    clock.t += 3_600_001;
    expect(await s.manifests.holdsContent(sha256!, clusterId)).toBe(false);
    expect(await s.content.prune()).toEqual({ failed: 0, files: 1 });
    expect(s.contentStore.has(sha256!)).toBe(false);
  }, 30_000);

  it('keeps a file another item shares (the same audio uploaded twice with different tags)', async () => {
    const { s, actor, dataDir } = await setup('LF3');
    const [x, y] = await Promise.all(['Thông báo', 'Tin khẩn'].map(async (title, i) =>
      s.content.ingest(await makeSignal(join(dataDir, `tag-${i}.wav`), { lufs: -20, seconds: 2, seed: 5, args: ['-ac', '1', '-metadata', `title=${title}`] }), { source: 'upload' }, actor)));
    expect(y.sha256).toBe(x.sha256);
    expect(await s.content.remove(x.id, actor)).toEqual({ fileRemoved: false });
    expect((await s.content.playable(y.id)).sha256).toBe(x.sha256);
    expect(await s.content.remove(y.id, actor)).toEqual({ fileRemoved: true });
    expect(s.contentStore.has(x.sha256!)).toBe(false);
  }, 30_000);

  it('synthesises a deleted bulletin again rather than answering from the cache', async () => {
    const { s, db, actor } = await setup('LF4');
    const req = { text: 'Mời bà con thôn Đông đến nhà văn hóa họp lúc tám giờ sáng.' };
    const first = await s.tts.synthesize(req, actor);
    expect((await s.tts.synthesize(req, actor)).id).toBe(first.id);
    await s.content.remove(first.id, actor);
    expect(db.sqlite.prepare('select count(*) as n from tts_cache where content_id = ?').get(first.id)).toEqual({ n: 0 });

    const again = await s.tts.synthesize(req, actor);
    expect(again.id).not.toBe(first.id);
    expect(again.state).toBe('ready');
    expect(s.contentStore.has(again.sha256!)).toBe(true);
    expect((await s.content.playable(again.id)).sha256).toBe(again.sha256);
  }, 60_000);

  it('refuses an item still being transcoded', async () => {
    const { s, actor, dataDir } = await setup('LF5');
    const long = await makeSignal(join(dataDir, 'long.wav'), { lufs: -20, seconds: 20, args: ['-ac', '1'] });
    const { record, done } = await s.content.submit(long, { source: 'upload' }, actor);
    await expect(s.content.remove(record.id, actor)).rejects.toMatchObject({ statusCode: 409, message: expect.stringMatching(/still transcoding/) });
    await done;
  }, 30_000);
});

describe('failed uploads', () => {
  it('are not listed, can be read by id until pruned, and leave no file', async () => {
    const { s, actor, clock, dataDir } = await setup('LF6');
    const good = await makeSignal(join(dataDir, 'good.mp3'), { lufs: -20, seconds: 3, args: ['-ac', '1', '-c:a', 'libmp3lame'] });
    const bad = await makeBadFixtures(dataDir, good);
    const files = () => ({ content: readdirSync(s.contentStore.dir).filter((f) => /^[a-f0-9]{64}$/.test(f)).sort(), originals: readdirSync(s.contentStore.originalsDir).sort(), tmp: readdirSync(s.contentStore.tmpDir) });
    const before = files();
    const listed = (await s.content.list({ limit: 500 })).map((c) => c.id);

    const failed: string[] = [];
    for (const [file, cause] of [[bad.truncated, /truncated/], [bad.silent, /no audible sound/]] as const) {
      const { record, done } = await s.content.submit(file, { source: 'upload' }, actor);
      await expect(done).rejects.toMatchObject({ statusCode: 422, field: 'body/file', message: expect.stringMatching(cause) });
      expect(await s.content.get(record.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(cause) });
      failed.push(record.id);
    }
    expect((await s.content.list({ limit: 500 })).map((c) => c.id)).toEqual(listed);
    expect(files()).toEqual(before);

    clock.t += FAILED_KEPT_MS - 1000;
    expect((await s.content.prune()).failed).toBe(0);
    clock.t += 2000;
    expect((await s.content.prune()).failed).toBe(2);
    for (const id of failed) await expect(s.content.get(id)).rejects.toMatchObject({ statusCode: 404 });
  }, 30_000);

  it('interrupted by a crash: pruned with the original they left behind', async () => {
    const { s, db, clock } = await setup('LF7');
    const orig = 'b'.repeat(64);
    writeFileSync(s.contentStore.originalPath(orig), 'half an upload');
    db.sqlite.prepare("insert into content (id, state, source, original_sha256, created_at) values ('ct-crashed01', 'transcoding', 'upload', ?, ?)").run(orig, clock.t);
    const restarted = new ContentService(new ContentRepo(db), s.contentStore, s.audit, clock);
    await restarted.start();
    expect((await restarted.get('ct-crashed01')).state).toBe('failed');
    clock.t += FAILED_KEPT_MS + 1;
    expect((await restarted.prune()).failed).toBe(1);
    expect(existsSync(s.contentStore.originalPath(orig))).toBe(false);
  });
});
