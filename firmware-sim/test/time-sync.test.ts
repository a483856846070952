import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceClock, SimCluster } from '../src/index.ts';
import { OUTPUTS, SECRET, TestBroker, sleep, waitFor } from './harness.ts';

// Sub-millisecond true time on both sides, so the assertions measure the algorithm and not Date.now()'s rounding.
const trueNow = () => performance.timeOrigin + performance.now();
let broker: TestBroker;
const clusters: SimCluster[] = [];
const make = (id: string, clock: DeviceClock, extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}) => {
  const c = new SimCluster({ url: broker.url, id, secret: SECRET, outputs: OUTPUTS, clock, ...extra });
  clusters.push(c);
  return c;
};
/** Error of the device's server-time estimate against the truth (the harness server runs on true time). */
const estimateError = (c: SimCluster) => c.serverTimeEstimate()! - trueNow();

beforeEach(async () => {
  broker = await TestBroker.start({ trueNow });
});
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
  await broker.close();
});

describe('time sync', () => {
  it.each([5000, -5000])('estimates server time within a few ms with the device clock %i ms off', async (skewMs) => {
    const clock = new DeviceClock({ trueNow, skewMs });
    const c = make(`cum-skew-${skewMs < 0 ? 'neg' : 'pos'}`, clock);
    const synced = new Promise<unknown>((r) => c.once('timeSync', r));
    await c.start();
    expect(await synced).toMatchObject({ samples: 4 });
    expect(Math.abs(c.clockOffsetMs! + skewMs)).toBeLessThan(3);
    expect(Math.abs(estimateError(c))).toBeLessThan(3);
    expect(broker.from(c.id, 'time/req')).toHaveLength(4);
    expect(broker.from(c.id, 'time/req')[0]).toMatchObject({ qos: 0, retain: false });
    // Reported in telemetry, rounded to 0.1 ms.
    expect(c.sendTelemetry()!.clockOffsetMs).toBeCloseTo(c.clockOffsetMs!, 1);
  });

  it('tracks a drifting clock: each burst re-measures the offset', async () => {
    const clock = new DeviceClock({ trueNow, skewMs: 1200, driftPpm: 300 });
    const c = make('cum-drift', clock);
    await c.start();
    await waitFor(() => c.clockOffsetMs !== null, 2000, 'first sync');
    clock.setSkew(clock.errorMs() + 700); // an RTC step on top of the drift
    expect(Math.abs(estimateError(c) - 700)).toBeLessThan(5);
    c.syncTimeNow();
    await waitFor(() => c.counters.timeSyncs === 2, 2000, 'second sync');
    expect(Math.abs(estimateError(c))).toBeLessThan(3);
  });

  it('with asymmetric delay the error is half the asymmetry, and never more', async () => {
    const clock = new DeviceClock({ trueNow, skewMs: -3000 });
    const c = make('cum-asym', clock);
    c.network({ up: { delayMs: 40 }, down: { delayMs: 0 } });
    await c.start();
    await waitFor(() => c.clockOffsetMs !== null, 3000, 'sync');
    const err = estimateError(c);
    // offset = θ + (d_up − d_down)/2: the device believes the server is 20 ms later than it is.
    expect(err).toBeGreaterThan(20 - 4);
    expect(err).toBeLessThanOrEqual(20 + 3);
    expect(c.clockRttMs!).toBeGreaterThan(38);
  });

  it('keeps the minimum-RTT sample under jitter, so the error stays within half that round trip', async () => {
    const c = make('cum-jitter', new DeviceClock({ trueNow, skewMs: 2500 }), { timeSync: { samples: 8 } });
    c.network({ delayMs: 5, jitterMs: 60 });
    await c.start();
    await waitFor(() => c.clockOffsetMs !== null, 5000, 'sync');
    expect(Math.abs(estimateError(c))).toBeLessThanOrEqual(c.clockRttMs! / 2 + 2);
  });

  it('ignores responses it did not ask for', async () => {
    const c = make('cum-stray', new DeviceClock({ trueNow, skewMs: 100 }));
    await c.start();
    await waitFor(() => c.clockOffsetMs !== null, 2000, 'sync');
    const before = c.clockOffsetMs;
    await broker.publish('loa/v1/dev/cum-stray/time/res', { id: 'ts-999', t0: 1, t1: 9e12, t2: 9e12 }, { qos: 0 });
    await sleep(50);
    expect(c.clockOffsetMs).toBe(before);
    expect(c.online).toBe(true);
  });

  it('holds commands that arrive before the first sync and judges them on server time', async () => {
    broker.timeServer = false;
    const c = make('cum-early', new DeviceClock({ trueNow, skewMs: 5000 }), { timeSync: { sampleTimeoutMs: 150 } });
    await c.start();
    // Valid for 2 s of server time; on the raw clock (5 s fast) it would look 3 s expired.
    const cmd = broker.command('setVolume', { volume: 22 }, 2000);
    await broker.sendCommand({ cluster: 'cum-early' }, cmd);
    await sleep(80);
    expect(broker.from('cum-early', 'reply')).toHaveLength(0);
    broker.timeServer = true;
    const r = await waitFor(() => broker.from('cum-early', 'reply')[0], 2000, 'reply');
    expect(r.json).toMatchObject({ id: cmd.id, result: 'ok' });
    expect(c.volume).toBe(22);
  });
});
