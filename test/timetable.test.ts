import { describe, expect, it } from 'vitest';
import type { AiringReport } from '../schemas/device-protocol/playback.ts';
import { timetableIcs } from '../server/src/timetable/ics.ts';
import type { Actor } from '../server/src/shared/actor.ts';
import { systemActor } from '../server/src/shared/actor.ts';
import { fakeClock, ingestTone, servicesOn, testDir } from './helpers/services.ts';
import { createDb } from '../server/src/db/client.ts';

const H = 3_600_000;
const admin: Actor = { id: 'u-admin', name: 'admin', role: 'admin', scope: 'all' };

async function setup() {
  const dir = testDir('loa-tt-');
  const clock = fakeClock('2026-11-24T01:00:00Z'); // 08:00 in Việt Nam
  const s = await servicesOn(createDb(':memory:'), dir, clock, { publish: async () => undefined });
  await s.areas.create({ id: 'xa', name: 'Đồng Thạnh', kind: 'commune', policy: { quietHours: '21:00-05:00' } });
  const [a, b] = (await s.clusters.create([1, 2].map((i) => ({ name: `Cụm ${i}`, areaId: 'xa', serial: `TT${i}`, outputs: [{ index: 0, label: 'Loa' }] })), systemActor('test'))).map((c) => c.clusterId);
  const tone = await ingestTone(s, dir, admin, 2);
  let k = 0;
  const report = (clusterId: string, broadcastId: string, state: AiringReport['state'], at: number) =>
    s.airings.report(clusterId, { id: `r-${k++}`, itemId: broadcastId, broadcastId, seq: 0, state, ts: at, serverTs: at });
  return { s, clock, a, b, tone, report };
}

describe('timetable', () => {
  it('shows planned, aired and missed by cluster, the week beyond the planner, quiet hours and free time', async () => {
    const { s, clock, a, b, tone, report } = await setup();
    const p = await s.programmes.create(
      { name: 'Bản tin sáng', areaId: 'xa', colour: '#43a047', targets: { areaIds: ['xa'] }, level: 'normal', items: [{ type: 'content', contentId: tone.id }], schedule: { recurrence: { kind: 'daily' }, time: '05:30' } },
      admin,
    );
    await s.planner.run();
    s.presence.seen(a);
    // 25/11 05:30: cluster 1 airs it, cluster 2 is offline throughout.
    const [first] = (await s.ledger.between(0, Date.parse('2100-01-01'))).filter((r) => r.programmeId === p.id);
    clock.t = first.startAt - 60_000;
    s.presence.seen(a);
    for (const st of ['received', 'downloaded', 'started'] as const) await report(a, first.broadcastId!, st, first.startAt);
    clock.t = first.startAt + 1000;
    expect(await s.timetable.nowNext({ areaId: 'xa' }, admin)).toMatchObject({ now: { title: 'Bản tin sáng', state: 'airing' }, next: { startAt: new Date(first.startAt + 24 * H).toISOString() } });
    await report(a, first.broadcastId!, 'finished', first.startAt + 2500);
    clock.t = first.startAt + 3 * 60_000;
    s.presence.seen(a);
    await s.broadcasts.progress();

    const week = await s.timetable.query({ areaId: 'xa' }, admin);
    expect(week.zone).toBe('Asia/Ho_Chi_Minh');
    const mine = week.entries.filter((e) => e.programmeId === p.id);
    // Today is the 25th from 00:00 local: seven mornings, 25/11 … 01/12.
    expect(mine.map((e) => e.startAt.slice(0, 10))).toEqual(['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29', '2026-11-30']);
    expect(mine[0]).toMatchObject({ state: 'partial', colour: '#43a047', clusters: { targeted: 2, aired: 1, missed: 1 }, missedBy: [{ clusterId: b, name: 'Cụm 2', reason: 'offline' }] });
    expect(mine[1].state).toBe('scheduled');
    expect(mine.slice(2).every((e) => e.state === 'planned')).toBe(true);
    expect(week.quiet[0]).toEqual({ from: week.from, to: '2026-11-24T22:00:00.000Z' }); // the night the week opens in
    expect(week.free.length).toBeGreaterThan(0);
    expect(week.free.every((f) => week.quiet.some((q) => q.from === f.to))).toBe(true);

    expect((await s.timetable.query({ clusterId: a }, admin)).entries.find((e) => e.programmeId === p.id)).toMatchObject({ state: 'aired', clusters: { targeted: 1, aired: 1, missed: 0 } });
    expect((await s.timetable.query({ clusterId: b }, admin)).entries.find((e) => e.programmeId === p.id)).toMatchObject({ state: 'missed', reason: 'offline', clusters: { targeted: 1, aired: 0, missed: 1 } });

    const ics = timetableIcs(week, 'Đồng Thạnh');
    expect(ics).toContain('BEGIN:VCALENDAR');
    expect(ics.match(/BEGIN:VEVENT/g)).toHaveLength(mine.length);
    expect(ics).toContain('SUMMARY:Bản tin sáng');
  }, 30_000);

  it('refuses ranges it cannot show, naming the field', async () => {
    const { s } = await setup();
    await expect(s.timetable.query({ areaId: 'xa', from: '2026-11-24T00:00:00Z', to: '2026-11-23T00:00:00Z' }, admin)).rejects.toThrow(expect.objectContaining({ statusCode: 400, field: 'querystring/to' }));
    await expect(s.timetable.query({ areaId: 'xa', from: '2026-11-01T00:00:00Z', to: '2026-12-24T00:00:00Z' }, admin)).rejects.toThrow(expect.objectContaining({ statusCode: 400 }));
    await expect(s.timetable.query({ areaId: 'khong-co' }, admin)).rejects.toThrow(expect.objectContaining({ statusCode: 404 }));
  }, 30_000);
});
