import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgrammeInput } from '../schemas/api/programmes.ts';
import { createDb, type Db } from '../server/src/db/client.ts';
import type { Services } from '../server/src/services.ts';
import { systemActor, type Actor } from '../server/src/shared/actor.ts';
import { fakeClock, ingestTone, servicesOn } from './helpers/services.ts';

/**
 * Issue 11: "after kill -9 of the server at any moment no airing is lost and none is duplicated". The process is
 * killed at every statement of a planner run in turn: from the N-th SQLite statement on, every statement throws (a
 * throw inside a transaction rolls it back, as a dead process's unfinished transaction is), nothing after it is
 * written. Then a fresh server on the same file starts as main.ts does (deliverDue, then the planner) and every
 * occurrence must be planned exactly once, in one live broadcast, held once in each cluster's manifest, with its
 * airing log — for a first planning and for a change of version that withdraws the old airings.
 */
const admin: Actor = { id: 'u-admin', name: 'admin', role: 'admin', scope: 'all' };
const dir = mkdtempSync(join(tmpdir(), 'loa-plancrash-'));
const noPublish = { publish: async () => undefined };
const T0 = '2026-11-24T01:00:00Z';
let clusters: string[] = [];
let content = '';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const body = (time: string): ProgrammeInput => ({
  name: 'Bản tin sáng',
  areaId: 'xa',
  targets: { areaIds: ['xa'] },
  level: 'normal',
  items: [{ type: 'content', contentId: content }],
  schedule: { recurrence: { kind: 'daily' }, time },
});

/** Every statement from the `dieAt`-th on throws: the process is gone. */
function dying(db: Db): { arm: (dieAt: number) => void; count: () => number } {
  let n = 0;
  let dieAt = Infinity;
  const client = db.sqlite!;
  const prepare = client.prepare.bind(client);
  const guard = <T extends (...a: any[]) => any>(fn: T): T => ((...a: any[]) => {
    if (dieAt !== Infinity && ++n >= dieAt) throw new Error('killed');
    if (dieAt === Infinity && armed) n++;
    return fn(...a);
  }) as T;
  (client as any).prepare = (sql: string) => {
    const st = prepare(sql);
    for (const m of ['run', 'get', 'all'] as const) (st as any)[m] = guard((st as any)[m].bind(st));
    return st;
  };
  let armed = false;
  return {
    arm: (at) => {
      armed = true;
      dieAt = at;
    },
    count: () => n,
  };
}

async function template(name: string, prepare: (s: Services) => Promise<void>): Promise<string> {
  const file = join(dir, `${name}.sqlite`);
  const db = createDb(file);
  const s = await servicesOn(db, dir, fakeClock(T0), noPublish);
  await prepare(s);
  await s.backlog.settle();
  db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  db.sqlite.close();
  return file;
}

let first = '';
let change = '';
beforeAll(async () => {
  first = await template('first', async (s) => {
    await s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune' });
    clusters = (await s.clusters.create([1, 2, 3].map((i) => ({ name: `Cụm ${i}`, areaId: 'xa', serial: `PC${i}`, outputs: [{ index: 0, label: 'Loa' }] })), systemActor('test'))).map((c) => c.clusterId);
    content = (await ingestTone(s, dir, admin, 2)).id;
    await s.programmes.create(body('05:30'), admin);
  });
  // The second scenario starts from the first fully planned, then a change of time approved.
  change = join(dir, 'change.sqlite');
  copyFileSync(first, change);
  const db = createDb(change);
  const s = await servicesOn(db, dir, fakeClock(T0), noPublish);
  await s.planner.run();
  const [p] = await s.programmes.list({}, admin);
  await s.programmes.update(p.id, body('06:00'), admin);
  await s.backlog.settle();
  db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  db.sqlite.close();
}, 60_000);

async function runUntilDeath(file: string, dieAt: number): Promise<{ statements: number; survived: boolean }> {
  const db = createDb(file);
  const probe = dying(db);
  const s = await servicesOn(db, dir, fakeClock(T0), noPublish);
  probe.arm(dieAt);
  let survived = true;
  try {
    await s.planner.run();
    await s.backlog.settle();
  } catch {
    survived = false;
  }
  const statements = probe.count();
  try {
    db.sqlite.close();
  } catch {
    /* already unusable */
  }
  return { statements, survived };
}

async function restartAndCheck(file: string, times: string[]) {
  const db = createDb(file);
  const s = await servicesOn(db, dir, fakeClock(T0), noPublish);
  try {
    await s.broadcasts.deliverDue();
    await s.planner.run();
    await s.backlog.settle();
    const rows = await s.ledger.between(0, Date.parse('2100-01-01'));
    const live = rows.filter((r) => r.state === 'planned');
    const vn = (ms: number) => new Date(ms + 7 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    expect(live.map((r) => vn(r.startAt)).sort()).toEqual(times);
    const ids = new Set(live.map((r) => r.broadcastId!));
    for (const id of ids) {
      expect(await s.broadcasts.stateOf(id)).toBe('scheduled');
      expect(await s.airings.planned(id)).toBe(true);
    }
    // Nothing else of the programme still on: every other broadcast of it was withdrawn.
    const others = rows.filter((r) => r.broadcastId && !ids.has(r.broadcastId));
    for (const r of others) expect(await s.broadcasts.stateOf(r.broadcastId!)).toBe('cancelled');
    for (const c of clusters) {
      const m = await s.manifests.delta(c, 0);
      expect(m.items.map((i) => i.broadcastId).sort()).toEqual([...ids].sort());
    }
  } finally {
    db.sqlite.close();
  }
}

describe('planner killed at any statement', () => {
  for (const [name, file, times] of [
    ['first planning', () => first, ['2026-11-25 05:30', '2026-11-26 05:30']],
    ['a change of version', () => change, ['2026-11-25 06:00', '2026-11-26 06:00']],
  ] as const) {
    it(`${name}: nothing lost, nothing twice`, async () => {
      const scratch = join(dir, `scratch-${name.replace(/\s/g, '-')}.sqlite`);
      copyFileSync(file(), scratch);
      const { statements, survived } = await runUntilDeath(scratch, Infinity);
      expect(survived).toBe(true);
      expect(statements).toBeGreaterThan(10);
      for (let dieAt = 1; dieAt <= statements; dieAt++) {
        rmSync(scratch, { force: true });
        for (const ext of ['-wal', '-shm']) rmSync(scratch + ext, { force: true });
        copyFileSync(file(), scratch);
        await runUntilDeath(scratch, dieAt);
        await restartAndCheck(scratch, [...times]);
      }
    }, 120_000);
  }
});
