import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../schemas/device-protocol/playback.ts';
import { loadConfig } from '../server/src/config.ts';
import { createDb, type Db } from '../server/src/db/client.ts';
import { createServices } from '../server/src/services.ts';
import { systemActor } from '../server/src/shared/actor.ts';
import { fakeClock, ingestTone, testDir, type FakeClock } from './helpers/services.ts';

/**
 * Issue 8 §1: an emergency is published and answered before its per-cluster bookkeeping (manifest rows, airing log,
 * per-device pushes), which follows on the backlog. Here the backlog is held back, as if the process died right
 * after answering, and a new process on the same database file must complete the delivery.
 */
const N = 40;

async function boot(dataDir: string, clock: FakeClock, hold: boolean) {
  const db: Db = createDb(join(dataDir, 'loa.sqlite'));
  const sent: { topic: string; payload: unknown }[] = [];
  const publisher = { publish: async (topic: string, payload: Buffer) => void sent.push({ topic, payload: JSON.parse(payload.toString()) }) };
  const s = await createServices(loadConfig({ LOA_DATA_DIR: dataDir }), db, clock, publisher, hold ? { scheduleBacklog: () => undefined } : {});
  return { s, db, sent };
}

async function commune(hold: boolean) {
  const dataDir = testDir('loa-emerg-');
  const clock = fakeClock();
  const first = await boot(dataDir, clock, hold);
  const actor = systemActor('test');
  await first.s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune' });
  const made = await first.s.clusters.create(Array.from({ length: N }, (_, i) => ({ name: `Cụm ${i}`, areaId: 'xa', serial: `E${i}`, outputs: [{ index: 0, label: 'Loa' }] })), actor);
  // One more cluster elsewhere, targeted by id: it is reached by a push on its own manifest topic.
  await first.s.areas.create({ id: 'xb', name: 'Xã B', kind: 'commune' });
  const [lone] = await first.s.clusters.create([{ name: 'Cụm lẻ', areaId: 'xb', serial: 'EL', outputs: [{ index: 0, label: 'Loa' }] }], actor);
  const tone = await ingestTone(first.s, dataDir, actor);
  const b = await first.s.broadcasts.create({ title: 'Cảnh báo lũ', level: 'emergency', source: { contentId: tone.id }, targets: { areaIds: ['xa'], clusterIds: [lone.clusterId] } }, actor);
  return { dataDir, clock, actor, first, b, ids: made.map((c) => c.clusterId), lone: lone.clusterId };
}

const plays = (sent: { topic: string; payload: unknown }[]) => sent.filter((m) => m.topic.endsWith('/play') && (m.payload as { op: string }).op === 'play');
const manifestsTo = (sent: { topic: string; payload: unknown }[], id: string) => sent.filter((m) => m.topic.endsWith(`/${id}/manifest`)).map((m) => m.payload as Manifest);

describe('an emergency answered before its bookkeeping', () => {
  it('is published to the commune group and answered with the targeted count while nothing per cluster is written yet', async () => {
    const { first, b, lone } = await commune(true);
    expect(plays(first.sent).map((m) => m.topic)).toEqual(['loa/v1/grp/a-xa/play']);
    expect(b.delivery.targeted).toBe(N + 1);
    expect(first.s.backlog.pending).toBe(1);
    // The per-device push of the lone cluster waits on the backlog too.
    expect(manifestsTo(first.sent, lone)).toEqual([]);
    // Nothing on disk yet: read the tables directly, past the services (which would settle the backlog).
    expect(first.db.sqlite!.prepare('select count(*) as n from airings').get()).toEqual({ n: 0 });
    expect(first.db.sqlite!.prepare('select count(*) as n from manifest_items').get()).toEqual({ n: 0 });
  });

  it('lets no reader see the gap: a manifest request or a report in it settles the backlog first', async () => {
    const { first, b, ids, clock } = await commune(true);
    const m = await first.s.manifests.delta(ids[0], 0);
    expect(m.items.map((i) => i.broadcastId)).toEqual([b.id]);
    expect(first.s.backlog.pending).toBe(0);
    expect(await first.s.airings.report(ids[1], { id: 'r-1', itemId: b.id, broadcastId: b.id, seq: 0, state: 'received', ts: clock.t, serverTs: null })).toBe(true);
    expect((await first.s.broadcasts.get(b.id, systemActor('t'))).delivery).toMatchObject({ targeted: N + 1, received: 1 });
  });

  it('is completed by the next process when the first one died before its backlog ran', async () => {
    const { dataDir, clock, first, b, ids, lone } = await commune(true);
    first.db.sqlite!.close(); // kill -9: the backlog never ran
    const second = await boot(dataDir, clock, false);
    expect(await second.s.airings.planned(b.id)).toBe(false);
    expect(await second.s.broadcasts.deliverDue()).toBe(1);
    await second.s.backlog.idle();
    // The group publish is repeated (a device that has the item keeps it), the lone cluster gets its push.
    expect(plays(second.sent).map((m) => m.topic)).toEqual(['loa/v1/grp/a-xa/play']);
    expect(manifestsTo(second.sent, lone).at(-1)!.items.map((i) => i.broadcastId)).toEqual([b.id]);
    const got = await second.s.broadcasts.get(b.id, systemActor('t'));
    expect(got.delivery.targeted).toBe(N + 1);
    // Same times as announced: a re-delivery must not move an airing the devices may already hold.
    expect(got.startAt).toBe(b.startAt);
    for (const id of [...ids, lone]) expect((await second.s.manifests.delta(id, 0)).items.map((i) => [i.broadcastId, i.startAt])).toEqual([[b.id, Date.parse(b.startAt!)]]);
    // Delivered once: the next run of the window job leaves it alone.
    expect(await second.s.broadcasts.deliverDue()).toBe(0);
    second.db.sqlite!.close();
  });

  it('is not delivered twice when the process lives on', async () => {
    const { first } = await commune(false);
    await first.s.backlog.idle();
    expect(await first.s.broadcasts.deliverDue()).toBe(0);
    expect(plays(first.sent)).toHaveLength(1);
    first.db.sqlite!.close();
  });
});
