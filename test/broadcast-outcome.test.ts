import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AiringReport } from '../schemas/device-protocol/playback.ts';
import { loadConfig } from '../server/src/config.ts';
import { createDb } from '../server/src/db/client.ts';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { createServices } from '../server/src/services.ts';
import { systemActor } from '../server/src/shared/actor.ts';

/** How a broadcast ends, with a fake clock: every targeted cluster explained, one rule for done/expired (issue 8 §2). */
async function setup(n: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'loa-outcome-'));
  const clock = { t: Date.parse('2026-11-24T01:00:00Z'), now() { return this.t; } };
  const s = await createServices(loadConfig({ LOA_DATA_DIR: dataDir }), createDb(':memory:'), clock, { publish: async () => {} });
  const actor = systemActor('test');
  await s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune' });
  const made = await s.clusters.create(Array.from({ length: n }, (_, i) => ({ name: `Cụm ${i}`, areaId: 'xa', serial: `O${i}`, outputs: [{ index: 0, label: 'Loa' }] })), actor);
  const wav = join(dataDir, 'tone.wav');
  await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', wav]);
  const content = await s.content.ingest(wav, { source: 'upload', originalName: 'tone.wav' }, actor);
  const ids = made.map((c) => c.clusterId);
  const start = clock.t + 60_000;
  const b = await s.broadcasts.create(
    { title: 'Thông báo', level: 'normal', source: { contentId: content.id }, targets: { clusterIds: ids }, startAt: new Date(start).toISOString(), expiresAt: new Date(start + 10 * 60_000).toISOString() },
    actor,
  );
  let k = 0;
  const report = (clusterId: string, state: AiringReport['state'], at: number, extra: Partial<AiringReport> = {}) =>
    s.airings.report(clusterId, { id: `r-${k++}`, itemId: b.id, broadcastId: b.id, seq: 0, state, ts: at, serverTs: at, ...extra });
  const airOnce = async (clusterId: string, at = start) => {
    for (const [i, st] of (['received', 'downloaded', 'started', 'finished'] as const).entries()) await report(clusterId, st, at + (st === 'finished' ? 1000 : i));
  };
  const get = () => s.broadcasts.get(b.id, actor);
  return { s, clock, ids, b, start, expiresAt: start + 10 * 60_000, report, airOnce, get };
}

describe('clusters that never got the item', () => {
  it('are closed at expiry with a reason and counted as failed', async () => {
    const { s, clock, ids, b, start, expiresAt, report, get } = await setup(5);
    // ids[0..2] powered off from before the broadcast until after its expiry; ids[3] online but silent;
    // ids[4] got it but never started.
    s.presence.seen(ids[3]);
    s.presence.seen(ids[4]);
    await report(ids[4], 'received', start - 30_000);
    clock.t = expiresAt + 3 * 60_000;
    s.presence.seen(ids[3]);
    await s.broadcasts.progress();
    const byCluster = Object.fromEntries((await s.airings.list(b.id)).map((a) => [a.clusterId, a]));
    for (const id of ids.slice(0, 3)) expect(byCluster[id]).toMatchObject({ state: 'failed', reason: 'offline' });
    expect(byCluster[ids[3]]).toMatchObject({ state: 'failed', reason: 'not_received' });
    expect(byCluster[ids[4]]).toMatchObject({ state: 'failed', reason: 'expired' });
    const bc = await get();
    expect(bc.state).toBe('expired');
    expect(bc.delivery).toMatchObject({ targeted: 5, started: 0, finished: 0, failed: 5 });
    expect(bc.delivery.failures.map((f) => f.reason).sort()).toEqual(['expired', 'not_received', 'offline', 'offline', 'offline']);
  }, 30_000);

  it('closes an airing that started but never reported its end only after its length and a grace period', async () => {
    const { s, clock, ids, b, start, expiresAt, report, get } = await setup(1);
    await report(ids[0], 'started', expiresAt - 100);
    clock.t = expiresAt + 1;
    await s.broadcasts.progress();
    expect((await s.airings.list(b.id))[0]).toMatchObject({ state: 'started', reason: null });
    clock.t = expiresAt + 2 * 60_000;
    await s.broadcasts.progress();
    expect((await s.airings.list(b.id))[0]).toMatchObject({ state: 'failed', reason: 'unfinished', startedAt: expiresAt - 100 });
    expect((await get()).delivery).toMatchObject({ started: 1, finished: 0, failed: 1 });
    void start;
  }, 30_000);
});

describe('done or expired: one rule, whichever comes first', () => {
  it('is done when every cluster finished before the expiry job runs', async () => {
    const { s, clock, ids, start, expiresAt, airOnce, get } = await setup(2);
    clock.t = start + 5000;
    for (const id of ids) await airOnce(id);
    await s.broadcasts.progress();
    expect((await get()).state).toBe('done');
    clock.t = expiresAt + 3 * 60_000;
    await s.broadcasts.progress();
    expect(await get()).toMatchObject({ state: 'done', delivery: { targeted: 2, finished: 2, failed: 0 } });
  }, 30_000);

  it('is done when the expiry job runs first and the proof of play arrives afterwards', async () => {
    const { s, clock, ids, b, start, expiresAt, airOnce, get } = await setup(2);
    // Both aired on time but were cut off from the server; their buffered reports come after the expiry.
    clock.t = expiresAt + 3 * 60_000;
    await s.broadcasts.progress();
    expect((await get()).state).toBe('expired');
    clock.t += 60_000;
    for (const id of ids) await airOnce(id, start);
    await s.broadcasts.progress();
    expect(await get()).toMatchObject({ state: 'done', delivery: { targeted: 2, finished: 2, failed: 0, failures: [] } });
    expect((await s.airings.list(b.id)).map((a) => a.reason)).toEqual([null, null]);
  }, 30_000);

  it('is done once every reachable cluster finished: an offline one is a failure, not a reason to stay on air', async () => {
    const { s, clock, ids, b, start, expiresAt, airOnce, report, get } = await setup(2);
    s.presence.seen(ids[0]);
    // ids[1] is offline from the start: before the airing's time it is only waiting, named with its reason.
    clock.t = start - 1000;
    expect((await get()).delivery).toMatchObject({ notReceived: 2, waiting: [{ clusterId: ids[1], name: 'Cụm 1', reason: 'offline' }, { clusterId: ids[0], reason: 'not_received' }] });
    clock.t = start + 5000;
    await airOnce(ids[0]);
    await s.broadcasts.progress();
    expect(await get()).toMatchObject({ state: 'done', delivery: { finished: 1, failed: 1, notReceived: 0, waiting: [], failures: [{ clusterId: ids[1], name: 'Cụm 1', reason: 'offline' }] } });
    // It comes back before the expiry and airs the item it still holds: the log says so, the broadcast stays done.
    clock.t = expiresAt - 60_000;
    await report(ids[1], 'received', clock.t);
    await airOnce(ids[1], clock.t);
    await s.broadcasts.progress();
    expect(await get()).toMatchObject({ state: 'done', delivery: { finished: 2, failed: 0, failures: [] } });
    expect((await s.airings.list(b.id)).find((a) => a.clusterId === ids[1])).toMatchObject({ state: 'finished', reason: null });
  }, 30_000);

  it('waits for an offline cluster until its airing time is over', async () => {
    const { s, clock, ids, start, airOnce, get } = await setup(2);
    s.presence.seen(ids[0]);
    clock.t = start;
    await airOnce(ids[0], start - 2000);
    await s.broadcasts.progress();
    // The programme (1 s) of ids[1] would still be on now: it may yet be airing it from its own manifest.
    expect((await get()).state).toBe('airing');
    clock.t = start + 1500;
    await s.broadcasts.progress();
    expect((await get()).state).toBe('done');
  }, 30_000);

  it('is expired when a reachable cluster did not air, and stays so', async () => {
    const { s, clock, ids, start, expiresAt, airOnce, get } = await setup(2);
    s.presence.seen(ids[1]);
    clock.t = start + 5000;
    await airOnce(ids[0]);
    await s.broadcasts.progress();
    expect((await get()).state).toBe('airing');
    clock.t = expiresAt + 1;
    s.presence.seen(ids[1]);
    await s.broadcasts.progress();
    expect(await get()).toMatchObject({ state: 'expired', delivery: { finished: 1, failed: 1, failures: [{ clusterId: ids[1], reason: 'not_received' }] } });
    clock.t += 60_000;
    await s.broadcasts.progress();
    expect((await get()).state).toBe('expired');
  }, 30_000);
});
