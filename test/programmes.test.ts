import { describe, expect, it } from 'vitest';
import type { ProgrammeInput } from '../schemas/api/programmes.ts';
import type { Actor } from '../server/src/shared/actor.ts';
import { ingestTone, oneClusterCommune } from './helpers/services.ts';

const H = 3_600_000;
async function setup() {
  const published: string[] = [];
  const f = await oneClusterCommune({ dirPrefix: 'loa-prog-', serial: 'P1', publisher: { publish: async (topic) => void published.push(topic) } });
  const admin: Actor = { id: 'u-admin', name: 'admin', role: 'admin', scope: 'all' };
  const operator: Actor = { id: 'u-op', name: 'op', role: 'operator', scope: new Set(['xa']) };
  const body = (over: Partial<ProgrammeInput> = {}): ProgrammeInput => ({
    name: 'Bản tin sáng',
    areaId: 'xa',
    targets: { clusterIds: [f.clusterId] },
    level: 'normal',
    items: [{ type: 'content', contentId: f.contentId }],
    schedule: { recurrence: { kind: 'daily' }, time: '05:30' },
    ...over,
  });
  const airingsOf = async (programmeId: string) => (await f.s.ledger.between(0, Date.parse('2100-01-01'))).filter((r) => r.programmeId === programmeId);
  return { ...f, published, admin, operator, body, airingsOf };
}
const vn = (ms: number) => new Date(ms + 7 * H).toISOString().slice(0, 16).replace('T', ' ');

describe('programmes and the planner', () => {
  it('plans a daily programme 48 hours ahead into broadcasts, once, and keeps rolling', async () => {
    const { s, clock, admin, body, airingsOf, clusterId } = await setup();
    const p = await s.programmes.create(body(), admin);
    expect(p.state).toBe('active');
    expect(p.next.slice(0, 2).map((o) => `${o.date} ${o.time}`)).toEqual(['2026-11-25 05:30', '2026-11-26 05:30']);
    expect(p.next[0].lunar).toEqual({ day: 17, month: 10, year: 2026, leap: false }); // 25/11/2026 = 17 tháng 10 âm lịch (tháng 10 begins with the new moon of 9/11/2026)
    expect(await s.planner.run()).toMatchObject({ planned: 2, missed: 0 });
    expect((await airingsOf(p.id)).map((r) => vn(r.startAt))).toEqual(['2026-11-25 05:30', '2026-11-26 05:30']);
    // Idempotent: running again plans nothing more.
    expect(await s.planner.run()).toMatchObject({ planned: 0, missed: 0 });
    await s.backlog.settle();
    const items = (await s.manifests.delta(clusterId, 0)).items;
    expect(items.filter((i) => !('removed' in i && i.removed))).toHaveLength(2);
    clock.t += 24 * H;
    expect(await s.planner.run()).toMatchObject({ planned: 1 });
    expect(await airingsOf(p.id)).toHaveLength(3);
  }, 30_000);

  it('airs an operator\'s programme only once approved, and a change waits while the approved version airs', async () => {
    const { s, clock, admin, operator, body, airingsOf } = await setup();
    await s.areas.update('xa', { approvalPolicy: 'required' });
    const p = await s.programmes.create(body(), operator);
    expect(p.state).toBe('pending_approval');
    expect(await s.planner.run()).toMatchObject({ planned: 0 });
    await s.programmes.approve(p.id, admin);
    expect(await s.planner.run()).toMatchObject({ planned: 2 });
    const refused = await s.programmes.update(p.id, body({ schedule: { recurrence: { kind: 'daily' }, time: '07:00' } }), operator);
    expect(await s.programmes.reject(refused.id, 'Trùng giờ họp', admin)).toMatchObject({ state: 'active', pending: null, rejected: { version: 2, rejectReason: 'Trùng giờ họp' } });
    const changed = await s.programmes.update(p.id, body({ schedule: { recurrence: { kind: 'daily' }, time: '06:00' } }), operator);
    expect(changed.live?.version).toBe(1);
    expect(changed.pending?.version).toBe(3);
    expect(changed.rejected).toBeNull();
    expect(await s.planner.run()).toMatchObject({ planned: 0, replaced: 0 });
    clock.t += H;
    const approved = await s.programmes.approve(p.id, admin);
    expect(approved.live?.version).toBe(3);
    const r = await s.planner.run();
    expect(r).toMatchObject({ planned: 2, replaced: 2 });
    const rows = await airingsOf(p.id);
    expect(rows.filter((x) => x.state === 'planned').map((x) => [x.version, vn(x.startAt)])).toEqual([
      [3, '2026-11-25 06:00'],
      [3, '2026-11-26 06:00'],
    ]);
    // The old version's broadcasts were withdrawn, so devices drop them.
    for (const old of rows.filter((x) => x.version === 1)) expect(await s.broadcasts.stateOf(old.broadcastId!)).toBe('cancelled');
  }, 30_000);

  it('refuses quiet hours with the nearest allowed time, or moves the airing when asked', async () => {
    const { s, admin, body, airingsOf } = await setup();
    await s.areas.update('xa', { policy: { quietHours: '21:00-05:00' } });
    const bad = s.programmes.create(body({ schedule: { recurrence: { kind: 'daily' }, time: '04:50' } }), admin);
    await expect(bad).rejects.toMatchObject({ statusCode: 400, field: 'body/schedule/time' });
    const err = await bad.catch((e) => e);
    expect(err.details[0]).toMatchObject({ kind: 'quiet_hours', nextAllowed: '2026-11-24T22:00:00.000Z' });
    expect(err.message).toContain('giờ không phát');
    const moved = await s.programmes.create(body({ schedule: { recurrence: { kind: 'daily' }, time: '04:50' }, onQuietHours: 'move' }), admin);
    await s.planner.run();
    expect((await airingsOf(moved.id)).map((r) => [vn(r.occurrenceAt), vn(r.startAt), r.reason])).toEqual([
      ['2026-11-25 04:50', '2026-11-25 05:00', 'moved'],
      ['2026-11-26 04:50', '2026-11-26 05:00', 'moved'],
    ]);
  }, 30_000);

  it('finds a clash at save, and shifts or goes first as the operator chose', async () => {
    const { s, admin, body, airingsOf, dataDir } = await setup();
    const long = await ingestTone(s, dataDir, admin, 5);
    const a = await s.programmes.create(body({ name: 'Tin xã', items: [{ type: 'content', contentId: long.id }], schedule: { recurrence: { kind: 'daily' }, time: '06:00' } }), admin);
    const clash = s.programmes.create(body({ name: 'Thông báo', schedule: { recurrence: { kind: 'daily' }, time: '06:00' } }), admin);
    await expect(clash).rejects.toMatchObject({ statusCode: 409 });
    const err = await clash.catch((e) => e);
    expect(err.details[0]).toMatchObject({ kind: 'conflict', clash: { programmeId: a.id, name: 'Tin xã', clusterCount: 1, clusters: ['Cụm'] } });
    const shifted = await s.programmes.create(body({ name: 'Thông báo', schedule: { recurrence: { kind: 'daily' }, time: '06:00' }, onClash: 'shift' }), admin);
    await s.planner.run();
    const [first] = await airingsOf(a.id);
    const [after] = await airingsOf(shifted.id);
    expect(after.startAt).toBe(first.endAt);
    // 'first': keeps its time; the one already planned (not yet on air) moves after it.
    const head = await s.programmes.create(body({ name: 'Khẩn trương', schedule: { recurrence: { kind: 'daily' }, time: '06:00' }, onClash: 'first' }), admin);
    await s.planner.run();
    const [h] = await airingsOf(head.id);
    expect(vn(h.startAt)).toBe('2026-11-25 06:00');
    const moved = (await airingsOf(a.id))[0];
    expect(moved.startAt).toBeGreaterThanOrEqual(h.endAt);
    expect(await s.broadcasts.stateOf(first.broadcastId!)).toBe('cancelled');
    expect(await s.broadcasts.stateOf(moved.broadcastId!)).toBe('scheduled');
  }, 60_000);

  it('refuses a programme over a session cap, with the numbers', async () => {
    const { s, admin, body, dataDir } = await setup();
    const tone = await ingestTone(s, dataDir, admin, 40);
    await s.areas.update('xa', { policy: { sessions: [{ name: 'Buổi sáng', from: '05:00', to: '07:00', maxMinutes: 1 }] } });
    await s.programmes.create(body({ items: [{ type: 'content', contentId: tone.id }] }), admin);
    const over = s.programmes.create(body({ name: 'Thêm', items: [{ type: 'content', contentId: tone.id }], schedule: { recurrence: { kind: 'daily' }, time: '06:30' } }), admin);
    await expect(over).rejects.toMatchObject({ statusCode: 400 });
    const err = await over.catch((e) => e);
    expect(err.details[0]).toMatchObject({ kind: 'session_cap', cap: { session: 'Buổi sáng', limitMin: 1 } });
    expect(err.details[0].cap.usedMin).toBeGreaterThan(0.6);
  }, 60_000);

  it('records as missed what cannot air, and withdraws a deleted programme', async () => {
    const { s, clock, admin, body, airingsOf } = await setup();
    const p = await s.programmes.create(body(), admin);
    await s.planner.run();
    await s.programmes.delete(p.id, admin);
    expect(await s.planner.run()).toMatchObject({ replaced: 2 });
    expect((await airingsOf(p.id)).every((r) => r.state === 'superseded')).toBe(true);
    // A server down past an occurrence: it is recorded missed, not skipped silently.
    const q = await s.programmes.create(body({ name: 'Trưa', schedule: { recurrence: { kind: 'daily' }, time: '11:00' } }), admin);
    clock.t += 72 * H; // nothing ran for three days
    await s.planner.run();
    const rows = await airingsOf(q.id);
    expect(rows.filter((r) => r.state === 'missed').map((r) => r.reason)).toContain('not_planned');
    expect(rows.filter((r) => r.state === 'planned').length).toBe(2);
  }, 30_000);
});
