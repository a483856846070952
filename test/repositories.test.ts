import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../server/src/db/client.ts';
import { createDb } from '../server/src/db/sqlite.ts';
import { createPostgresDb } from '../server/src/db/pg.ts';
import { inTransaction } from '../server/src/db/tx.ts';
import { AreasRepo } from '../server/src/areas/areas.repo.ts';
import { ClustersRepo } from '../server/src/devices/clusters.repo.ts';
import { TelemetryRepo } from '../server/src/health/telemetry.repo.ts';
import { DeviceEventsRepo } from '../server/src/health/device-events.repo.ts';
import { CommandsRepo } from '../server/src/commands/commands.repo.ts';
import { JobsRepo } from '../server/src/jobs/jobs.repo.ts';
import { AuditRepo } from '../server/src/audit/audit.repo.ts';
import { AlarmsRepo } from '../server/src/alarms/alarms.repo.ts';
import { ManifestsRepo } from '../server/src/broadcasts/manifests.repo.ts';
import type { PlayItem } from '../schemas/device-protocol/playback.ts';
import { postgresAvailable, startPostgres, type PostgresServer } from './helpers/postgres.ts';

/**
 * One repository suite, run on both databases (issue 13): the same calls give the same results on SQLite and on
 * PostgreSQL — the JSON, boolean and millisecond columns, the upserts, the counts, the SQLite prepared statements
 * and their query-builder twins, and transactions that span several repositories.
 */
let pg: PostgresServer | undefined;
let dbs = 0;
const open: Db[] = [];

beforeAll(async () => {
  if (postgresAvailable()) pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const d of open) await d.close();
  await pg?.stop();
});

const engines: [string, () => Promise<Db>][] = [
  ['SQLite', async () => createDb(':memory:')],
  [
    'PostgreSQL',
    async () => {
      if (!pg) throw new Error('PostgreSQL is not installed here (apt-get install postgresql)');
      return createPostgresDb(await pg.createDatabase(`repos_${process.pid}_${++dbs}`));
    },
  ],
];

const T0 = Date.parse('2026-12-01T00:00:00Z');
const output = (clusterId: string, index: number) => ({ clusterId, index, label: `Loa ${index + 1}`, ratedW: 50 });

async function fleet(db: Db) {
  const areas = new AreasRepo(db);
  const clusters = new ClustersRepo(db);
  await areas.insert({ id: 'tinh', name: 'Tỉnh', kind: 'province' });
  await areas.insert({ id: 'xa', name: 'Xã Đồng Thạnh', kind: 'commune', parentId: 'tinh', policy: { quietHours: { from: '22:00', to: '05:00' } } });
  await clusters.insertMany(
    ['c1', 'c2', 'c3'].map((id, i) => ({
      cluster: { id, areaId: 'xa', name: `Cụm ${i + 1}`, serial: `SER-${id}` },
      outputs: [output(id, 1), output(id, 0)],
      secretHash: `hash-${id}`,
      issuedAt: T0,
    })),
  );
  return { areas, clusters };
}

describe.each(engines)('repositories on %s', (_name, openDb) => {
  let db: Db;
  beforeAll(async () => {
    db = await openDb();
    open.push(db);
  }, 30_000);

  // Each test takes its own database: on one connection a failure in one would leave the others its rows.
  const fresh = async () => {
    const d = await openDb();
    open.push(d);
    return d;
  };

  it('reads back JSON, booleans and millisecond times as they were written', async () => {
    const d = await fresh();
    const { areas, clusters } = await fleet(d);
    expect(await areas.get('xa')).toMatchObject({ parentId: 'tinh', policy: { quietHours: { from: '22:00', to: '05:00' } } });
    expect((await areas.get('xa'))!.createdAt).toEqual(expect.any(Number));
    expect((await clusters.all()).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(await clusters.bySerial('SER-c2')).toMatchObject({ id: 'c2', name: 'Cụm 2' });
    expect(await clusters.get('nope')).toBeNull();
    expect((await clusters.outputs(['c1'])).map((o) => o.index)).toEqual([0, 1]);
    const telemetry = { mainsV: 221.5, backup: { active: false }, outputs: [{ index: 0, state: 'ok' }] };
    await clusters.saveStates([
      { clusterId: 'c1', online: true, lastSeen: T0 + 1, changedAt: T0 + 2, telemetry, telemetryAt: T0 + 3, birth: { fw: '1.2.0', features: ['stream'] }, faultCount: 2, malformedCount: 2 ** 33 },
    ]);
    expect(await clusters.state('c1')).toMatchObject({ online: true, lastSeen: T0 + 1, telemetry, birth: { features: ['stream'] }, faultCount: 2, malformedCount: 2 ** 33 });
    expect(await clusters.state('c2')).toMatchObject({ online: false, telemetry: null });
  });

  it("keeps the newest of each part of a cluster's state when two instances each hold part of it", async () => {
    const d = await fresh();
    const { clusters } = await fleet(d);
    const base = { clusterId: 'c1', faultCount: 0, malformedCount: 0 };
    // A received the birth and telemetry at T0+10; B, later telemetry at T0+20 and a presence change at T0+25
    const a = { ...base, online: true, lastSeen: T0 + 10, changedAt: T0 + 5, telemetry: { v: 'a' }, telemetryAt: T0 + 10, birth: { fw: '1.2.0' }, malformedCount: 3 };
    const b = { ...base, online: false, lastSeen: T0 + 20, changedAt: T0 + 25, telemetry: { v: 'b' }, telemetryAt: T0 + 20, birth: null, faultCount: 2, malformedCount: 1 };
    await clusters.saveStates([a]);
    await clusters.saveStates([b]);
    await clusters.saveStates([a]); // A flushes again with what it holds: older than B's in every part but the birth
    expect(await clusters.state('c1')).toMatchObject({ online: false, changedAt: T0 + 25, lastSeen: T0 + 20, telemetry: { v: 'b' }, telemetryAt: T0 + 20, faultCount: 2, birth: { fw: '1.2.0' }, malformedCount: 3 });
    // alone, an instance's newer state always lands
    await clusters.saveStates([{ ...b, online: true, changedAt: T0 + 30, lastSeen: T0 + 31, telemetry: { v: 'c' }, telemetryAt: T0 + 31, faultCount: 0 }]);
    expect(await clusters.state('c1')).toMatchObject({ online: true, lastSeen: T0 + 31, telemetry: { v: 'c' }, faultCount: 0 });
  });

  it('inserts a batch of clusters all or nothing', async () => {
    const d = await fresh();
    const { clusters } = await fleet(d);
    const batch = ['c4', 'c5'].map((id) => ({ cluster: { id, areaId: 'xa', name: id, serial: id === 'c5' ? 'SER-c1' : `SER-${id}` }, outputs: [output(id, 0)], secretHash: 'h', issuedAt: T0 }));
    await expect(clusters.insertMany(batch)).rejects.toThrow();
    expect((await clusters.all()).map((c) => c.id)).toEqual(['c1', 'c2', 'c3']);
    expect(await clusters.outputs(['c4'])).toEqual([]);
  });

  it('rolls back the writes of several repositories together', async () => {
    const d = await fresh();
    const { areas, clusters } = await fleet(d);
    const audit = new AuditRepo(d);
    await expect(
      inTransaction(d, async (tx) => {
        await clusters.update('c1', { name: 'Đổi tên' }, [output('c1', 3)], tx);
        await clusters.setCredential('c1', null, T0 + 5, true, tx);
        await audit.insert({ at: T0 + 5, actorName: 'admin', action: 'cluster.update', targetType: 'cluster', targetId: 'c1' }, tx);
        await areas.update('xa', { name: 'Xã khác' }, tx);
        throw new Error('refused half way');
      }),
    ).rejects.toThrow('refused half way');
    expect(await clusters.get('c1')).toMatchObject({ name: 'Cụm 1' });
    expect((await clusters.outputs(['c1'])).map((o) => o.index)).toEqual([0, 1]);
    expect((await clusters.credentials()).find((c) => c.clusterId === 'c1')).toMatchObject({ secretHash: 'hash-c1', revokedAt: null });
    expect(await audit.list({ limit: 10 })).toEqual([]);
    expect(await areas.get('xa')).toMatchObject({ name: 'Xã Đồng Thạnh' });

    await inTransaction(d, async (tx) => {
      await clusters.setCredential('c1', null, T0 + 6, true, tx);
      await audit.insert({ at: T0 + 6, actorName: 'admin', action: 'cluster.revoke', targetType: 'cluster', targetId: 'c1', details: { reason: 'mất cắp' } }, tx);
    });
    expect((await clusters.credentials()).find((c) => c.clusterId === 'c1')).toMatchObject({ secretHash: null, revokedAt: T0 + 6 });
    expect(await audit.list({ limit: 10 })).toMatchObject([{ action: 'cluster.revoke', details: { reason: 'mất cắp' }, id: expect.any(Number) }]);
  });

  it('keeps the telemetry series: points in range, averages per bucket, retention by count', async () => {
    const d = await fresh();
    await fleet(d);
    const t = new TelemetryRepo(d);
    const point = (clusterId: string, ts: number, onBattery: boolean, batteryV: number) => ({
      clusterId, ts, mainsV: onBattery ? null : 220, onBattery, batteryV, batteryPct: 80, relayTripped: false, ampTempC: 40.5, rssiDbm: -70, volume: 80, faultyOutputs: onBattery ? 1 : 0, clockOffsetMs: 1.5,
    });
    await t.insertMany([point('c1', T0, false, 12), point('c1', T0 + 30_000, true, 11), point('c1', T0 + 70_000, true, 10), point('c2', T0 + 10_000, false, 13)]);
    const pts = await t.points('c1', T0, T0 + 60_000);
    expect(pts.map((p) => [p.ts, p.onBattery, p.mainsV])).toEqual([[T0, false, 220], [T0 + 30_000, true, null]]);
    const b = await t.buckets('c1', T0, T0 + 120_000, 60_000);
    expect(b).toHaveLength(2);
    expect(b[0]).toMatchObject({ b: T0, batteryV: 11.5, onBattery: 0.5, samples: 2 });
    expect(b[1]).toMatchObject({ b: T0 + 60_000, batteryV: 10, onBattery: 1, samples: 1 });
    expect(typeof b[0].samples).toBe('number');
    expect(await t.deleteBefore(T0 + 20_000)).toBe(2);
    expect((await t.points('c1', 0, T0 * 2)).map((p) => p.ts)).toEqual([T0 + 30_000, T0 + 70_000]);
  });

  it('stores a device event once, however often it is re-sent', async () => {
    const d = await fresh();
    await fleet(d);
    const ev = new DeviceEventsRepo(d);
    const row = { clusterId: 'c1', eventId: 'e-1', ts: T0, receivedAt: T0 + 5, type: 'fault', payload: { output: 2, kind: 'open' } };
    expect(await ev.insert(row)).toBe(true);
    expect(await ev.insert({ ...row, receivedAt: T0 + 99 })).toBe(false);
    expect(await ev.list('c1', 0, 10)).toMatchObject([{ eventId: 'e-1', receivedAt: T0 + 5, payload: { output: 2, kind: 'open' } }]);
  });

  it('closes a command once and expires only what is still open', async () => {
    const d = await fresh();
    await fleet(d);
    const c = new CommandsRepo(d);
    for (const [id, expiresAt] of [['k1', T0 + 1_000], ['k2', T0 + 2_000], ['k3', T0 + 60_000]] as const) {
      await c.insert({ id, clusterId: 'c1', name: 'reboot', args: { delayS: 5 }, issuedAt: T0, expiresAt, issuedBy: 'admin', state: 'sent', reason: null, repliedAt: null });
    }
    expect(await c.close('c1', 'k1', { state: 'succeeded', reason: null, repliedAt: T0 + 10 })).toBe(true);
    expect(await c.close('c1', 'k1', { state: 'failed', reason: 'late', repliedAt: T0 + 20 })).toBe(false);
    expect(await c.close('c2', 'k2', { state: 'succeeded', reason: null, repliedAt: T0 + 10 })).toBe(false); // not its command
    expect(await c.expireBefore(T0 + 5_000)).toBe(1);
    expect((await c.listByCluster('c1', 10)).map((r) => [r.id, r.state]).sort()).toEqual([['k1', 'succeeded'], ['k2', 'expired'], ['k3', 'sent']]);
    expect(await c.get('k1')).toMatchObject({ args: { delayS: 5 }, repliedAt: T0 + 10 });
  });

  it('leases a due job to one runner at a time', async () => {
    const d = await fresh();
    const j = new JobsRepo(d);
    await j.ensure('planner', 60_000, T0);
    await j.ensure('planner', 60_000, T0 + 999_999); // already there: its schedule is kept
    expect(await j.claim('planner', T0 - 1, 30_000)).toBe(false); // not due yet
    const [first, second] = await Promise.all([j.claim('planner', T0, 30_000), j.claim('planner', T0, 30_000)]);
    expect([first, second].sort()).toEqual([false, true]);
    expect(await j.claim('planner', T0 + 29_999, 30_000)).toBe(false); // the lease holds
    expect(await j.claim('planner', T0 + 30_000, 30_000)).toBe(true); // a runner that died lets it go
    await j.failed('planner', 'boom', T0 + 90_000);
    expect(await j.attempts('planner')).toBeGreaterThan(0);
    expect((await j.all()).find((r) => r.name === 'planner')).toMatchObject({ dueAt: T0 + 90_000 });
  });

  it('keeps one open alarm per cluster and type, and filters by cluster', async () => {
    const d = await fresh();
    await fleet(d);
    const a = new AlarmsRepo(d);
    const alarm = (id: string, clusterId: string, type: string) => ({ id, clusterId, type, severity: 'major', raisedAt: T0, lastAt: T0 });
    await a.insert(alarm('a1', 'c1', 'offline'));
    await a.insert(alarm('a2', 'c2', 'offline'));
    await a.insert(alarm('a3', 'c3', 'battery_low'));
    await expect(a.insert(alarm('a4', 'c1', 'offline'))).rejects.toThrow();
    expect((await a.open('c1')).map((r) => r.id)).toEqual(['a1']);
    expect((await a.list({ clusterIds: ['c1', 'c3'], limit: 10, offset: 0 })).map((r) => r.id).sort()).toEqual(['a1', 'a3']);
    const ack = { ackedBy: 'u1', ackedByName: 'Kỹ thuật', ackedAt: T0 + 5, ackNote: 'đang sửa' };
    expect(await a.acknowledge('a1', ack)).toBe(true);
    expect(await a.acknowledge('a1', { ...ack, ackedAt: T0 + 9 })).toBe(false);
    expect(await a.get('a1')).toMatchObject({ ackedAt: T0 + 5, count: 1 });
  });

  it('writes manifests by revision, finds content and streams in their JSON items, and prunes with the floor', async () => {
    const d = await fresh();
    await fleet(d);
    const m = new ManifestsRepo(d);
    const file = (id: string, sha256: string, expiresAt: number) => ({ id, expiresAt, content: { sha256, url: `/c/${sha256}`, bytes: 10 } }) as unknown as PlayItem;
    const stream = (id: string, url: string, expiresAt: number) => ({ id, expiresAt, stream: { url, codec: 'opus', latencyMs: 1000, durationMs: null } }) as unknown as PlayItem;
    const change = (clusterId: string, item: PlayItem, removed = false) => ({ clusterId, itemId: (item as { id: string }).id, broadcastId: 'b1', removed, item });
    const versions = async () => Promise.all(['c1', 'c2'].map(async (id) => [id, await m.version(id)] as const));
    // the database numbers each cluster's changes: one more per write that touches it
    expect(await m.write([change('c1', file('i1', 'aa', T0 + 1_000)), change('c2', file('i1', 'aa', T0 + 1_000))])).toEqual(new Map([['c1', 1], ['c2', 1]]));
    expect(await m.write([change('c1', stream('i2', 'http://x/live/1', T0 + 9_000))])).toEqual(new Map([['c1', 2]]));
    await m.write([change('c2', file('i1', 'aa', T0 + 1_000), true)]); // c2's item removed: a tombstone
    expect(await versions()).toEqual([['c1', { version: 2, floor: 0 }], ['c2', { version: 2, floor: 0 }]]);
    // two writers at once (two instances) never get one version twice
    const [x, y] = await Promise.all([m.write([change('c1', file('i3', 'cc', T0 + 1_000))]), m.write([change('c1', file('i4', 'dd', T0 + 1_000))])]);
    expect([x.get('c1'), y.get('c1')].sort()).toEqual([3, 4]);
    expect(await m.raise('c1', 2)).toEqual({ version: 4, floor: 0 }); // never lowered
    expect(await m.raise('c3', 7)).toEqual({ version: 7, floor: 0 });
    expect((await m.items('c1', 1)).map((r) => r.itemId).sort()).toEqual(['i2', 'i3', 'i4']);
    expect((await m.items('c2')).map((r) => [r.itemId, r.removed, r.rev])).toEqual([['i1', true, 2]]);
    expect((await m.items('c1')).find((r) => r.itemId === 'i2')!.item).toMatchObject({ stream: { url: 'http://x/live/1' } });
    expect(await m.holdsContent('aa', T0)).toBe(true);
    expect(await m.holdsContent('aa', T0, 'c2')).toBe(false); // removed there
    expect(await m.holdsContent('aa', T0 + 1_000)).toBe(false); // expired
    expect(await m.holdsContent('bb', T0)).toBe(false);
    expect(await m.holdsStream('http://x/live/1', 'c1', T0)).toBe(true);
    expect(await m.holdsStream('http://x/live/1', 'c2', T0)).toBe(false);
    expect(await m.prune(T0 + 5_000)).toBe(4);
    expect(await versions()).toEqual([['c1', { version: 4, floor: 4 }], ['c2', { version: 2, floor: 2 }]]);
    expect((await m.itemsOfBroadcast('b1')).map((r) => r.itemId)).toEqual(['i2']);
  });

  it('answers after a query fails, inside and outside a transaction', async () => {
    const { areas } = await fleet(db);
    await expect(areas.insert({ id: 'xa', name: 'again', kind: 'commune' })).rejects.toThrow();
    await expect(inTransaction(db, async (tx) => areas.insert({ id: 'tinh', name: 'again', kind: 'province' }, tx))).rejects.toThrow();
    expect((await areas.all()).map((r) => r.id).sort()).toEqual(['tinh', 'xa']);
  });
});
