/**
 * Content fetch as firmware must do it (docs/device-protocol.md §9): at once, over HTTP with the cluster's own
 * Basic credentials, Range resume after a broken transfer, sha256 + size verification, retry with back-off until
 * the item expires; plus the waiting rules for content that is late, and the 'assume' simulation shortcut.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlayItem } from '../../schemas/device-protocol/index.ts';
import { SimCluster } from '../src/index.ts';
import { ContentServer, SECRET, TestBroker, playItem, sleep, testCluster, waitFor } from './harness.ts';

const trueNow = () => performance.timeOrigin + performance.now();
let broker: TestBroker;
let http: ContentServer;
const clusters: SimCluster[] = [];
const make = async (id: string, extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}) => {
  const c = testCluster(broker, http, id, { contentRetry: { initialMs: 50, maxMs: 200, jitter: 0 }, ...extra });
  clusters.push(c);
  http.secrets.set(id, SECRET);
  await c.start();
  await waitFor(() => c.clockOffsetMs !== null, 2000, 'time sync');
  return c;
};
const reports = (id: string, itemId: string) => broker.airings(id).filter((r) => r.itemId === itemId);
const states = (id: string, itemId: string) => reports(id, itemId).map((r) => (r.reason ? `${r.state}:${r.reason}` : r.state));
const send = (c: SimCluster, items: PlayItem[], version = 1) => broker.sendManifest(c.id, { version, baseVersion: 0, items });
const at = (ms: number) => Math.round(trueNow() + ms);

beforeEach(async () => {
  broker = await TestBroker.start({ trueNow });
  http = await ContentServer.start();
});
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
  await broker.close();
  await http.close();
});

describe('content fetch', () => {
  it('downloads at once with its own credentials, verifies it, reports received then downloaded', async () => {
    const c = await make('cum-dl');
    const f = http.addRandom(50_000, 11);
    const item = playItem(f, { startAt: at(30_000) }, trueNow());
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).includes('downloaded'), 3000, 'downloaded');
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]).toMatchObject({ user: 'cum-dl', sha256: f.sha256, range: null, status: 200, bytes: 50_000 });
    expect(c.content(f.sha256)!.equals(http.files.get(f.sha256)!)).toBe(true);
    const r = reports(c.id, item.id);
    expect(r.map((x) => [x.state, x.seq])).toEqual([
      ['received', 0],
      ['downloaded', 0],
    ]);
    expect(r.every((x) => typeof x.serverTs === 'number' && Math.abs(x.serverTs - x.ts - c.clockOffsetMs!) < 1)).toBe(true);
    expect(new Set(r.map((x) => x.id)).size).toBe(2);

    // A second item with the same file: no second download, downloaded at once.
    const again = playItem(f, { startAt: at(30_000) }, trueNow());
    await broker.sendManifest(c.id, { version: 2, baseVersion: 1, items: [again] });
    await waitFor(() => states(c.id, again.id).includes('downloaded'), 2000, 'second item');
    expect(http.requests).toHaveLength(1);
    expect(c.contentFiles).toEqual([f.sha256]);
  });

  it('a corrupt download is reported failed / hash_mismatch, deleted, and fetched again from byte 0', async () => {
    const c = await make('cum-corrupt');
    const f = http.addRandom(20_000, 12);
    c.corruptNextDownload();
    const item = playItem(f, { startAt: at(30_000) }, trueNow());
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).includes('downloaded'), 3000, 'recovered');
    expect(states(c.id, item.id)).toEqual(['received', 'failed:hash_mismatch', 'downloaded']);
    expect(http.requests.map((r) => [r.range, r.status])).toEqual([
      [null, 200],
      [null, 200],
    ]);
    expect(c.counters.hashMismatches).toBe(1);
    expect(c.content(f.sha256)!.equals(http.files.get(f.sha256)!)).toBe(true);
  });

  it('resumes a broken transfer with Range, and starts over when the server ignores the range', async () => {
    const c = await make('cum-resume');
    const f = http.addRandom(40_000, 13);
    http.cutAfterBytes = 15_000;
    http.cutTimes = 1;
    const item = playItem(f, { startAt: at(30_000) }, trueNow());
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).includes('downloaded'), 3000, 'downloaded');
    expect(states(c.id, item.id)).toEqual(['received', 'failed:download_failed', 'downloaded']);
    expect(http.requests.map((r) => [r.range, r.status])).toEqual([
      [null, 200],
      ['bytes=15000-', 206],
    ]);
    expect(c.content(f.sha256)!.equals(http.files.get(f.sha256)!)).toBe(true);

    // A server (or proxy) that answers a range request with 200: the partial file is discarded, not appended to.
    const g = http.addRandom(40_000, 14);
    http.cutTimes = 1;
    http.ignoreRanges = true;
    const other = playItem(g, { startAt: at(30_000) }, trueNow());
    await broker.sendManifest(c.id, { version: 2, baseVersion: 1, items: [other] });
    await waitFor(() => states(c.id, other.id).includes('downloaded'), 3000, 'downloaded');
    expect(http.forSha(g.sha256).map((r) => [r.range, r.status])).toEqual([
      [null, 200],
      ['bytes=15000-', 200],
    ]);
    expect(c.content(g.sha256)!.equals(http.files.get(g.sha256)!)).toBe(true);
    expect(c.counters.hashMismatches).toBe(0);
  });

  it('retries with back-off through server errors, reporting the failure once', async () => {
    const c = await make('cum-retry');
    const f = http.addRandom(5000, 15);
    http.failTimes = 3;
    const item = playItem(f, { startAt: at(30_000) }, trueNow());
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).includes('downloaded'), 3000, 'downloaded');
    expect(http.requests.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    // 50, 100, 200 ms apart (jitter 0): the back-off doubles up to its cap.
    const gaps = http.requests.slice(1).map((r, i) => r.at - http.requests[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(195);
    expect(states(c.id, item.id)).toEqual(['received', 'failed:download_failed', 'downloaded']);
  });

  it('a wrong credential gets 401 and is retried only at the longest back-off', async () => {
    const c = await make('cum-401');
    http.secrets.set('cum-401', 'not-the-secret-at-all-xx');
    const f = http.addRandom(5000, 16);
    const item = playItem(f, { startAt: at(30_000) }, trueNow());
    await send(c, [item]);
    await waitFor(() => http.requests.length === 3, 3000, 'three attempts');
    expect(http.requests.map((r) => [r.user, r.status])).toEqual([
      ['cum-401', 401],
      ['cum-401', 401],
      ['cum-401', 401],
    ]);
    expect(http.requests[2].at - http.requests[1].at).toBeGreaterThanOrEqual(195);
    expect(states(c.id, item.id)).toEqual(['received', 'failed:download_failed']);
  });
});

describe('content and time', () => {
  it('an item that arrives expired is reported and never fetched or aired', async () => {
    const c = await make('cum-old');
    const f = http.addRandom(5000, 17);
    const item = playItem(f, { startAt: at(-5000), expiresAt: at(-1000) }, trueNow());
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).length === 2, 2000, 'reports');
    await sleep(100);
    expect(states(c.id, item.id)).toEqual(['received', 'skipped:expired']);
    expect(http.requests).toHaveLength(0);
    expect(c.items).toEqual([]);
    expect(c.counters.airingStarted).toBe(0);
  });

  it('content that never comes: download_failed, then failed / content_missing at expiry, and retries stop', async () => {
    const c = await make('cum-404');
    const missing = { sha256: 'ab'.repeat(32), size: 1000 };
    const item = playItem(missing, { startAt: at(200), expiresAt: at(700), repeat: { count: 2, intervalS: 0 } }, trueNow());
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).includes('failed:content_missing'), 3000, 'content_missing');
    expect(states(c.id, item.id)).toEqual(['received', 'failed:download_failed', 'failed:content_missing', 'failed:content_missing']);
    expect(reports(c.id, item.id).slice(2).map((r) => r.seq)).toEqual([0, 1]);
    const n = http.requests.length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(http.requests.every((r) => r.status === 404)).toBe(true);
    await sleep(500);
    expect(http.requests.length).toBe(n);
    expect(c.counters.airingStarted).toBe(0);
  });

  it('late content within the sync window seeks to stay in step; later than the window plays from the start; after expiry never', async () => {
    const inWindow = await make('cum-late-seek');
    const pastWindow = await make('cum-late-start', { syncWindowMs: 200 });
    const tooLate = await make('cum-late-never');
    for (const c of [inWindow, pastWindow]) c.contentFetchDelay(600);
    tooLate.contentFetchDelay(900);
    const f = http.addRandom(8000, 18);
    const item = playItem(f, { id: 'late-1', startAt: at(300), durationMs: 800, expiresAt: at(800) }, trueNow());
    await Promise.all([inWindow, pastWindow, tooLate].map((c) => send(c, [item])));
    await waitFor(() => [inWindow, pastWindow].every((c) => states(c.id, 'late-1').includes('finished')), 4000, 'both aired');
    const seek = reports(inWindow.id, 'late-1').find((r) => r.state === 'started')!;
    const rec = inWindow.playbackRecord('late-1')!;
    // ~300 ms late: it starts 300 ms into the programme, so the audio is where its neighbours' is.
    expect(seek.positionMs).toBeGreaterThan(250);
    expect(seek.positionMs).toBeLessThan(450);
    expect(Math.abs(rec.trueStartMs - item.startAt!)).toBeLessThan(15);
    expect(reports(pastWindow.id, 'late-1').find((r) => r.state === 'started')!.positionMs).toBe(0);
    // The file would have come 100 ms after expiry: by then nothing needs it.
    await waitFor(() => states(tooLate.id, 'late-1').length >= 2, 3000, 'too late');
    await sleep(200);
    expect(states(tooLate.id, 'late-1')).toEqual(['received', 'failed:content_missing']);
    expect(tooLate.contentFiles).toEqual([]);
  });

  it("contentFetch 'assume' treats content as present after a delay, without any HTTP", async () => {
    const c = await make('cum-assume', { contentFetch: 'assume', contentAssumeDelayMs: 150, httpUrl: undefined });
    const item = playItem({ sha256: 'cd'.repeat(32), size: 123_456 }, { startAt: at(500), durationMs: 200 }, trueNow());
    const t0 = Date.now();
    await send(c, [item]);
    await waitFor(() => states(c.id, item.id).includes('downloaded'), 2000, 'assumed');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    await waitFor(() => states(c.id, item.id).includes('finished'), 2000, 'aired');
    expect(http.requests).toHaveLength(0);
    expect(c.content('cd'.repeat(32))).toBeNull();
  });
});
