import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimFleet } from '../src/index.ts';
import { OUTPUTS, SECRET, TestBroker, waitFor } from './harness.ts';

const N = 200;
let broker: TestBroker;
let fleet: SimFleet;
const ids = Array.from({ length: N }, (_, i) => `cum-${String(i).padStart(4, '0')}`);

beforeAll(async () => {
  broker = await TestBroker.start();
  for (const id of ids) broker.secrets.set(id, SECRET + id);
  fleet = new SimFleet({
    url: broker.url,
    members: ids.map((id) => ({ id, secret: SECRET + id, outputs: OUTPUTS })),
    connectRate: 500,
    concurrency: 40,
    tickMs: 20,
    skewMs: 3000,
    cluster: { reconnectPeriodMs: 100 },
  });
});
afterAll(async () => {
  await fleet?.stop();
  await broker?.close();
});

describe('SimFleet', () => {
  it(`connects ${N} clusters at the configured rate and every one reports`, async () => {
    const t0 = Date.now();
    const ramp = new Promise<void>((r) => fleet.once('rampDone', r));
    fleet.start();
    await fleet.waitOnline(20_000);
    await ramp;
    const s = fleet.stats();
    expect(s).toMatchObject({ total: N, started: N, online: N, connected: N, everOnline: N, connecting: 0, connectErrors: 0 });
    // 500/s for 200 clusters takes ≥ ~0.4 s; an unthrottled start would open them all at once.
    const first = broker.connects.map((c) => c.at);
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(300);
    expect(Date.now() - t0).toBeGreaterThan(300);
    await waitFor(() => new Set(broker.publishes.filter((p) => p.topic.endsWith('/telemetry')).map((p) => p.clientId)).size === N, 5000, 'telemetry from all');
    expect(new Set(broker.publishes.filter((p) => p.topic.endsWith('/birth')).map((p) => p.clientId)).size).toBe(N);
    expect(fleet.stats().telemetrySent).toBeGreaterThanOrEqual(N);
    // Per-cluster clocks differ, and every cluster measured its own offset.
    await waitFor(() => fleet.clusters.every((c) => c.clockOffsetMs !== null), 5000, 'time sync everywhere');
    const offsets = fleet.clusters.map((c) => c.clockOffsetMs!);
    expect(Math.max(...offsets) - Math.min(...offsets)).toBeGreaterThan(1000);
    // The harness answers on Date.now(): the measurement is within half its round trip (plus ms rounding).
    for (const c of fleet.clusters) expect(Math.abs(c.clockOffsetMs! + c.clock.errorMs())).toBeLessThanOrEqual(c.clockRttMs! / 2 + 2);
  });

  it('fans a group command out to every cluster and collects one reply each', async () => {
    await Promise.all(ids.map((id) => broker.sendConfig(id, { version: 1, groups: ['a-xa-demo'] })));
    await waitFor(() => fleet.clusters.every((c) => c.groups.includes('a-xa-demo')), 5000, 'group subscriptions');
    const cmd = broker.command('setVolume', { volume: 55 });
    await broker.sendCommand({ group: 'a-xa-demo' }, cmd);
    await waitFor(() => broker.publishes.filter((p) => p.topic.endsWith('/reply') && p.json.id === cmd.id).length === N, 5000, 'all replies');
    expect(fleet.clusters.every((c) => c.volume === 55)).toBe(true);
    await waitFor(() => fleet.stats().repliesSent === N, 2000, 'reply counters');
  });

  it('applies a fault to a fraction of the fleet', async () => {
    const hit = fleet.applyFault({ kind: 'mains-loss' }, { fraction: 0.1 });
    expect(hit).toHaveLength(N / 10);
    expect(new Set(hit.map((c) => c.id)).size).toBe(N / 10);
    const lost = () => broker.publishes.filter((p) => p.topic.endsWith('/event') && p.json.type === 'mains_lost');
    await waitFor(() => lost().length === N / 10, 3000, 'mains_lost events');
    expect(new Set(lost().map((p) => p.clientId))).toEqual(new Set(hit.map((c) => c.id)));
    const byCount = fleet.applyFault({ kind: 'output-fault', fault: 'open', index: 0 }, { count: 3 });
    expect(byCount).toHaveLength(3);
    expect(byCount.every((c) => c.outputs[0].state === 'open')).toBe(true);
  });

  it('survives a reconnect storm across the fleet and comes back complete', async () => {
    fleet.applyFault({ kind: 'reconnect-storm', maxDelayMs: 300 }, { fraction: 0.5 });
    await waitFor(() => fleet.stats().online < N, 2000, 'the storm to hit');
    await fleet.waitOnline(10_000);
    expect(fleet.stats().connects).toBe(N + N / 2);
  });

  it('stops cleanly: every cluster leaves a retained offline status and no will', async () => {
    await fleet.stop();
    const offline = broker.publishes.filter((p) => p.topic.endsWith('/status') && !p.will && p.json.state === 'offline');
    expect(new Set(offline.map((p) => p.clientId)).size).toBe(N);
    expect(offline.every((p) => p.retain && p.qos === 1)).toBe(true);
    expect(fleet.stats().online).toBe(0);
  });
});
