/**
 * Synchronised start across a fleet: clusters a few hundred metres apart must start a programme together or they
 * are heard as echoes of each other. 20 clusters with clocks ±5 s off and drifting ±50 ppm, behind a 4G link with
 * asymmetric, jittery one-way delays (20–200 ms up, 20–120 ms down), get one group play order and must start it
 * within a few ms of the true start time.
 *
 * Error budget: the player itself adds nothing measurable (a late timer seeks by its lateness), so the error is
 * the time-sync error. With the per-direction minimum filter it is half the difference of the two smallest one-way
 * delays of the burst: 48 samples keep that to a few ms (the contract's min-RTT sample, or 4–24 samples, do not —
 * see the README for measured numbers). SYNC_SAMPLES and SYNC_ESTIMATOR override both, for measuring.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiringReportSchema, payloadCodec } from '../../schemas/device-protocol/index.ts';
import { DeviceClock, SimFleet, type TimeSyncEstimator, type TimeSyncResult } from '../src/index.ts';
import { ContentServer, OUTPUTS, SECRET, TestBroker, playItem, waitFor } from './harness.ts';

const trueNow = () => performance.timeOrigin + performance.now();
const N = 20;
const SAMPLES = Number(process.env.SYNC_SAMPLES ?? 48);
const ESTIMATOR = (process.env.SYNC_ESTIMATOR ?? 'min-one-way') as TimeSyncEstimator;
const GROUP = 'a-xa-dong-thanh';
const ids = Array.from({ length: N }, (_, i) => `cum-sync-${String(i).padStart(2, '0')}`);
let broker: TestBroker;
let http: ContentServer;
let fleet: SimFleet;
/** Each cluster's last time-sync burst. */
const synced = new Map<string, TimeSyncResult>();
/**
 * Floor of each leg: the link's 20 ms. Time sync stamps a packet at the instant the link delivers it (time-sync.ts),
 * so neither a timer that releases it up to 1 ms early nor a late one moves a leg off the model.
 */
const LEG_FLOOR_MS = 20;

let suiteStart = 0;

beforeAll(async () => {
  suiteStart = trueNow();
  broker = await TestBroker.start({ trueNow });
  http = await ContentServer.start();
  // Deterministic "random" clocks: a spread over the whole ±5 s / ±50 ppm range.
  const spread = (i: number, k: number) => ((((i * k) % N) / (N - 1)) * 2 - 1);
  fleet = new SimFleet({
    url: broker.url,
    http: http.url,
    members: ids.map((id) => ({ id, secret: SECRET, outputs: OUTPUTS })),
    connectRate: 1000,
    concurrency: N,
    tickMs: 20,
    clock: (_, i) => new DeviceClock({ trueNow, skewMs: 5000 * spread(i, 7), driftPpm: 50 * spread(i, 13) }),
    cluster: { reconnectPeriodMs: 100, timeSync: { samples: SAMPLES, estimator: ESTIMATOR } },
  });
  // 4G: jittery and asymmetric (the uplink is the congested leg); equal floors, as on a real cell.
  fleet.applyFault({ kind: 'network', network: { up: { delayMs: 20, jitterMs: 180 }, down: { delayMs: 20, jitterMs: 100 } } });
  for (const c of fleet.clusters) c.on('timeSync', (r) => r && synced.set(c.id, r));
  fleet.start();
  await fleet.waitOnline(15_000);
  await Promise.all(ids.map((id) => broker.sendConfig(id, { version: 1, groups: [GROUP] })));
  await waitFor(() => fleet.clusters.every((c) => c.groups.includes(GROUP) && c.clockOffsetMs !== null), 20_000, 'groups and time sync');
});
afterAll(async () => {
  await fleet?.stop();
  await broker?.close();
  await http?.close();
});

describe('synchronised start', () => {
  it(`${N} clusters with skewed, drifting clocks behind a jittery link start together (${SAMPLES} samples, ${ESTIMATOR})`, async () => {
    const file = http.addRandom(20_000, 7);
    const startAt = Math.round(trueNow() + 2000);
    const item = playItem(file, { level: 'priority', startAt, durationMs: 400 }, trueNow());
    await broker.sendGroupPlay(GROUP, { op: 'play', item });
    await waitFor(() => ids.every((id) => broker.airings(id).some((r) => r.itemId === item.id && r.state === 'finished')), 10_000, 'every cluster finished');

    const r = fleet.startErrors(item.id);
    const s = r.summary!;
    const syncErr = fleet.clusters.map((c) => Math.abs(c.serverTimeEstimate()! - trueNow()));
    // The clock's drift since the suite began, as the own-bound check below allows for it (see there).
    const driftOf = (id: string) => ((1.5 * Math.abs(fleet.clusters.find((c) => c.id === id)!.clock.drift)) / 1e6) * (startAt - suiteStart);
    const slack = r.errors.map((e) => synced.get(e.clusterId)!.boundMs - LEG_FLOOR_MS + driftOf(e.clusterId) - Math.abs(e.errorMs));
    console.log(
      `sync start, ${N} clusters, ${SAMPLES} samples, ${ESTIMATOR}: start error median ${s.median.toFixed(2)} ms, ` +
        `mean |e| ${s.meanAbs.toFixed(2)}, p95 |e| ${s.p95Abs.toFixed(2)}, max |e| ${s.maxAbs.toFixed(2)} (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)}); ` +
        `time-sync |error| now: max ${Math.max(...syncErr).toFixed(2)} ms; player late by up to ${Math.max(...r.errors.map((e) => e.lateMs)).toFixed(2)} ms (sought); ` +
        `own bound (B − F + drift) less |e|: min ${Math.min(...slack).toFixed(2)} ms`,
    );
    expect(r.missing).toEqual([]);
    expect(s.n).toBe(N);
    // The player adds nothing: each start error is the error of the offset it was timed with, at that instant —
    // the offset in the record (a re-sync since must not count) and the clock's error at the true start, not now.
    // Exact but for the drift over the seek: lateness (≤ the 2 s sync window) × 50 ppm ≤ 0.1 ms.
    for (const c of fleet.clusters) {
      const rec = c.playbackRecord(item.id)!;
      const offsetErr = rec.offsetMs! + (c.clock.at(rec.trueStartMs) - rec.trueStartMs); // measured θ − true θ
      expect(Math.abs(rec.trueStartMs - startAt + offsetErr)).toBeLessThan(0.2);
    }
    // Against true time, cluster by cluster, a bound that holds however loaded the box is: the error is
    // (U − D) / 2 for the smallest one-way delays U and D of the burst, and the burst's own stamps give
    // B = (U + D) / 2 (TimeSyncResult.boundMs), so with both legs at least the floor F, |e| ≤ B − F. A busy CPU
    // can only lengthen the legs (the hops inside this process, the broker's late stamp) and so widens B with it;
    // what would break this is the estimator or the player, not the load. Plus drift: true θ
    // moves with the cluster's clock from the two samples that set θ and B to the start (≤ |ppm| × that time), and B
    // is off by half the drift between those two samples: ≤ 1.5 × |ppm| × the time since the suite began (< 1.2 ms).
    for (const e of r.errors) {
      const b = synced.get(e.clusterId)!;
      expect(Math.abs(e.errorMs), `${e.clusterId}: own bound ${b.boundMs.toFixed(2)} ms`).toBeLessThanOrEqual(b.boundMs - LEG_FLOOR_MS + driftOf(e.clusterId));
    }
    // And across the fleet, what this link model gives. Measured on a 2-core box over 8 runs (README): median
    // −1.7…−0.1 ms, mean |e| 1.0–2.4 ms, max |e| 2.6–8.8 ms; a model of this link puts the 99.9th percentile of those
    // three at 2.1, 2.9 and 16 ms, and the bounds sit above it. Under load (two busy processes and a second suite
    // on the same 2 cores, 26 runs, issue 8 §5): median −1.6…+0.2, mean |e| 1.0–2.9, max |e| 4.4–11.5 — within
    // them, once the player took its lateness from the reading it starts at (player.ts; before, a descheduled
    // process between two readings added 3–9 ms to one cluster's start). Under heavier load (four busy loops and
    // a firmware-sim suite in a loop) 2 of 20 runs still failed (|median| 4.6 ms; mean |e| 4.1, 4.8): time sync
    // stamped t0 and t3 when this process got round to it, the link released packets up to 11 ms late on average
    // (p99 up to 140 ms), and the smallest legs sat 7.9 / 5.5 ms above the floor where the link gives 3.7 / 2.0 —
    // the bounds were being held against the host, not the link. Stamped at the link's instants (time-sync.ts),
    // under that load, 30 runs: median −1.5…0, mean |e| 0.9–2.8, max |e| 3.4–10.6, legs 4.1 / 2.3 ms above it.
    expect(Math.abs(s.median)).toBeLessThanOrEqual(3);
    expect(s.meanAbs).toBeLessThanOrEqual(4);
    expect(s.maxAbs).toBeLessThanOrEqual(20);

    // Every cluster reported the whole life of the airing once, with valid payloads.
    const codec = payloadCodec(AiringReportSchema);
    for (const id of ids) {
      const reps = broker.airings(id).filter((x) => x.itemId === item.id);
      expect(reps.map((x) => x.state)).toEqual(['received', 'downloaded', 'started', 'finished']);
      for (const x of broker.from(id, 'airing')) expect(codec.decode(x.payload).ok).toBe(true);
    }
    const st = fleet.stats();
    expect(st).toMatchObject({ airingsReceived: N, airingsDownloaded: N, airingsStarted: N, airingsFinished: N, airingsFailed: 0 });
    // Each cluster downloaded for itself; the fleet holds the bytes once.
    expect(http.forSha(file.sha256)).toHaveLength(N);
    expect(st).toMatchObject({ contentFiles: 0 }); // retired after airing: nothing needs the file any more
  });
});
