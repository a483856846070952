import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AiringReport } from '../schemas/device-protocol/index.ts';
import { seedDemo } from '../server/src/demo/seed.ts';
import { DeviceClock, SimFleet, type PlaybackRecord } from '../firmware-sim/src/index.ts';
import { reports, uploadTone } from './helpers/broadcast.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * Issue 11, integration: a daily programme over three consecutive days, on the real server and the 18 simulated
 * clusters of Đồng Thạnh over real MQTT, in fake time. The server's clock and every device's true time read one
 * source, `Date.now() + offset`; a day passes by moving the offset (a few seconds of real time per day), and each
 * device is told its time source stepped (SimCluster.clockStepped: its player re-arms its wake-up timer, as a
 * receiver does on an NTP/RTC step). Day 2, one cluster has no link from the day before until well after the
 * airing: it airs from its manifest (store-and-forward) and its proof of play, reported once back, counts.
 */
const H = 3_600_000;
const VN = 7 * H; // Asia/Ho_Chi_Minh, no DST
const day = (d: number) => Date.UTC(2026, 11, 1 + d) - VN; // 00:00 local of 2026-12-(1+d)
const at0530 = (d: number) => day(d) + 5.5 * H;
/** Real seconds before 05:30 each jump lands: enough for the jobs tick (1 s), the planner and a re-arm, under load. */
const LEAD_MS = 15_000;
/**
 * Start error against true time. The devices are 0–3 s off (skew) and time-synced over loopback (min-RTT of 4
 * samples): the offset is off by at most half the best round trip, a few ms idle and tens of ms when two suites share
 * two cores. A timer that fires late is sought away by the player (syncWindowMs 2 s), so it adds nothing; a start
 * outside this tolerance means the airing was not timed from 05:30 at all (e.g. a timer armed before the jump).
 */
const START_TOLERANCE_MS = 100;
const AREA = 'dong-thanh';

let offset = day(0) + 12 * H - Date.now(); // 2026-12-01 12:00 local
const now = () => Date.now() + offset;

let srv: TestServer;
let fleet: SimFleet;
let tone: string;
const starts: PlaybackRecord[] = [];
const queued: (AiringReport & { clusterId: string })[] = [];

/** The world's time jumps to `t`; every device learns its clock stepped. */
function jumpTo(t: number) {
  offset = t - Date.now();
  for (const c of fleet.clusters) c.clockStepped();
}

beforeAll(async () => {
  // Heartbeats are stamped with the fake clock: a jump of most of a day must not make the clusters look offline.
  srv = await startServer({ LOA_HEARTBEAT_TIMEOUT_S: '86400' }, { clock: { now } });
  const s = srv.app.loa.services;
  const members = (await seedDemo(s, srv.mqttUrl, srv.httpUrl)).fleet.clusters.filter((m) => m.id.startsWith('dt-'));
  expect(members).toHaveLength(18);
  fleet = new SimFleet({
    url: srv.mqttUrl,
    http: srv.httpUrl,
    members,
    // RTCs up to ±3 s off, deterministic; no drift: a fake day would add 2.6 s of it at 30 ppm with no periodic
    // re-sync in between (the fleet's timers run on real time), which is not what is measured here.
    clock: (_m, i) => new DeviceClock({ trueNow: now, skewMs: ((i * 2339) % 6001) - 3000 }),
    cluster: { reconnectPeriodMs: 200, reconnectMaxMs: 1000, bootDelayMs: 200 },
  });
  for (const c of fleet.clusters) {
    c.on('playback', (r) => starts.push(r));
    c.on('airing', (r) => queued.push({ ...r, clusterId: c.id }));
  }
  fleet.start();
  await fleet.waitOnline(30_000);
  await waitFor(() => fleet.clusters.every((c) => c.manifestVersion >= 1 && c.groups.includes(`a-${AREA}`)), 20_000);
  await waitFor(async () => (await srv.api('GET', `/api/areas/${AREA}/rollup`)).body.clustersOnline === 18, 10_000);
  tone = await uploadTone(srv, 2);
}, 90_000);

afterAll(async () => {
  await fleet?.stop();
  await srv?.close();
}, 30_000);

const iso = (ms: number) => new Date(ms).toISOString();
const timetable = async (from: number, to: number) => {
  const r = await srv.api('GET', `/api/timetable?areaId=${AREA}&from=${iso(from)}&to=${iso(to)}`);
  expect(r.status).toBe(200);
  return r.body.entries as { programmeId: string | null; broadcastId: string | null; startAt: string; state: string; clusters: { targeted: number; aired: number; missed: number } }[];
};
const broadcast = async (id: string) => (await srv.api('GET', `/api/broadcasts/${id}`)).body;
const plannerRanSince = async (t: number) => (await srv.app.loa.services.jobs.list()).some((j) => j.name === 'planner' && (j.lastOkAt ?? 0) >= t && j.leaseUntil === null);

describe('a daily programme over three days, in fake time', () => {
  it('airs at 05:30 on every cluster each day, once, and counts the one partitioned through day 2', async () => {
    const s = srv.app.loa.services;
    const created = await srv.api('POST', '/api/programmes', {
      name: 'Bản tin sáng',
      areaId: AREA,
      targets: { areaIds: [AREA] },
      level: 'normal',
      items: [{ type: 'content', contentId: tone }],
      schedule: { recurrence: { kind: 'daily' }, time: '05:30' },
    });
    expect(created.status).toBe(201);
    let programme = created.body;
    if (programme.state !== 'active') programme = (await srv.api('POST', `/api/programmes/${programme.id}/approve`)).body;
    expect(programme.state).toBe('active');
    expect(programme.next.slice(0, 3).map((o: { date: string; time: string }) => `${o.date} ${o.time}`)).toEqual(['2026-12-02 05:30', '2026-12-03 05:30', '2026-12-04 05:30']);

    // The save triggers the planner: on 1 December at noon it plans the next 48 hours, the mornings of 2 and 3
    // December, and every cluster fetches the audio.
    const planned = await waitFor(async () => {
      const rows = await s.ledger.between(day(0), day(6), [programme.id]);
      return rows.length === 2 && rows.every((r) => r.state === 'planned') ? rows : null;
    }, 10_000);
    expect(planned.map((r) => r.occurrenceAt).sort()).toEqual([at0530(1), at0530(2)]);
    const held = (id: string) => fleet.clusters.filter((c) => c.items.some((i) => i.broadcastId === id && c.contentFiles.includes(i.content!.sha256))).length;
    await waitFor(() => planned.every((r) => held(r.broadcastId!) === 18), 20_000);

    const partitioned = fleet.get('dt-07')!;
    const aired: string[] = [];
    for (const d of [1, 2, 3]) {
      const T = at0530(d);
      if (d === 2) {
        // Cut off from the day before: it must air from what it already holds.
        partitioned.linkDown();
        await waitFor(async () => (await srv.api('GET', `/api/clusters/${partitioned.id}`)).body.health.online === false, 10_000);
      }
      const jumped = T - LEAD_MS;
      jumpTo(jumped);
      await s.jobs.trigger('planner');
      await waitFor(() => plannerRanSince(jumped), 10_000);
      expect(now()).toBeLessThan(T - 2_000); // the setup above must leave the devices time to wake at 05:30

      // Planned a day ahead or more, the occurrence is in every manifest with its audio, the partitioned one's too.
      const entry = (await timetable(T - H, T + H)).find((e) => e.programmeId === programme.id && e.startAt === iso(T));
      expect(entry?.broadcastId).toMatch(/^po-/);
      const id = entry!.broadcastId!;
      aired.push(id);
      for (const c of fleet.clusters) expect(c.items.some((i) => i.broadcastId === id && c.contentFiles.includes(i.content!.sha256)), c.id).toBe(true);

      // Every cluster starts it at 05:30, on true time.
      const of = () => starts.filter((r) => r.broadcastId === id);
      await waitFor(() => of().length === 18, LEAD_MS + 20_000, 50);
      for (const r of of()) {
        expect(r.targetMs, r.clusterId).toBe(T);
        expect(Math.abs(r.trueStartMs - T), r.clusterId).toBeLessThanOrEqual(START_TOLERANCE_MS);
      }
      expect(new Set(of().map((r) => r.clusterId)).size).toBe(18);

      // Proof of play: the server hears every reachable cluster, and the broadcast is done.
      const reachable = d === 2 ? 17 : 18;
      await waitFor(async () => (await broadcast(id)).delivery.finished === reachable, 20_000, 100);
      await waitFor(async () => (await broadcast(id)).state === 'done', 10_000, 100);
      for (const r of (await reports(srv, id, 'started'))) {
        // serverTs is the device's estimate at the start; positionMs what it sought for a late timer.
        expect(r.server_ts - (r.position_ms ?? 0)).toBeGreaterThanOrEqual(T - START_TOLERANCE_MS);
        expect(r.server_ts - (r.position_ms ?? 0)).toBeLessThanOrEqual(T + START_TOLERANCE_MS);
      }

      // The rest of the morning (also keeps the next jump below the heartbeat timeout of a day).
      jumpTo(T + 0.5 * H);
      if (d === 2) {
        expect((await reports(srv, id)).filter((r) => r.cluster_id === partitioned.id && r.state === 'started')).toEqual([]);
        expect(partitioned.pendingAiringCount).toBeGreaterThan(0);
        // Back after the broadcast expired (05:30 + 2 s + 15 min grace): its buffered proof of play still counts.
        partitioned.linkUp();
        await waitFor(async () => (await broadcast(id)).delivery.finished === 18, 20_000, 100);
      }
      const t = await waitFor(async () => {
        const e = (await timetable(T - H, T + H)).find((x) => x.broadcastId === id);
        return e?.state === 'aired' && e.clusters.aired === 18 ? e : null;
      }, 10_000, 100).catch(async () => (await timetable(T - H, T + H)).find((x) => x.broadcastId === id));
      expect(t).toMatchObject({ state: 'aired', clusters: { targeted: 18, aired: 18, missed: 0 } });
      expect(await broadcast(id)).toMatchObject({ state: 'done', delivery: { targeted: 18, started: 18, finished: 18, failed: 0 } });
    }

    // Once each, never twice: per cluster and broadcast one start on the device, one `started` and one `finished`
    // report queued and stored; and one ledger row per occurrence, whose broadcast is the one that aired.
    for (const id of aired) {
      for (const c of fleet.clusters) {
        expect(starts.filter((r) => r.broadcastId === id && r.clusterId === c.id), `${id} ${c.id}`).toHaveLength(1);
        expect(queued.filter((r) => r.broadcastId === id && r.clusterId === c.id).map((r) => r.state).sort(), `${id} ${c.id}`).toEqual(['downloaded', 'finished', 'received', 'started'].sort());
        const stored = (await reports(srv, id)).filter((r) => r.cluster_id === c.id);
        expect(stored.filter((r) => r.state === 'started')).toHaveLength(1);
        expect(stored.filter((r) => r.state === 'finished')).toHaveLength(1);
      }
    }
    const rows = await s.ledger.between(day(0), day(6), [programme.id]);
    for (const d of [1, 2, 3]) {
      const of = rows.filter((r) => r.occurrenceAt === at0530(d));
      expect(of.map((r) => [r.state, r.broadcastId])).toEqual([['planned', aired[d - 1]]]);
    }
    // Nothing else of the programme aired: no second broadcast for an occurrence.
    expect(new Set(starts.map((r) => r.broadcastId))).toEqual(new Set(aired));
  }, 150_000);
});
