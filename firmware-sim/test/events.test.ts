import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceEventSchema, payloadCodec } from '../../schemas/device-protocol/index.ts';
import { SimCluster, type DeviceEvent } from '../src/index.ts';
import { OUTPUTS, SECRET, TestBroker, sleep, waitFor } from './harness.ts';

let broker: TestBroker;
let c: SimCluster;
const ID = 'cum-ben-do';
const events = () => broker.from(ID, 'event').filter((e) => e.json.type !== 'reboot');
const make = (extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}) =>
  (c = new SimCluster({ url: broker.url, id: ID, secret: SECRET, outputs: OUTPUTS, reconnectPeriodMs: 30, reconnectJitter: 0, ...extra }));

beforeEach(async () => {
  broker = await TestBroker.start();
});
afterEach(async () => {
  await c.stop();
  await broker.close();
});

describe('events', () => {
  it('publishes a boot event and state-change events at QoS 1 with unique ids and valid payloads', async () => {
    await make().start();
    c.mainsLoss(true);
    c.mainsLoss(true); // no change, no event
    c.mainsLoss(false);
    await waitFor(() => events().length === 2, 2000, 'two events');
    const boot = broker.from(ID, 'event').find((e) => e.json.type === 'reboot')!;
    expect(boot.json.reason).toBe('power_on');
    const all = broker.from(ID, 'event');
    for (const e of all) {
      expect(e).toMatchObject({ qos: 1, retain: false });
      expect(payloadCodec(DeviceEventSchema).decode(e.payload).ok).toBe(true);
    }
    expect(new Set(all.map((e) => e.json.id)).size).toBe(all.length);
    expect(events().map((e) => e.json.type)).toEqual(['mains_lost', 'mains_restored']);
  });

  it('buffers events while the link is down and flushes them oldest first with their original id and ts', async () => {
    await make().start();
    // Acknowledged, not just arrived: an unacknowledged boot event would rightly be resent after the link loss.
    await waitFor(() => c.pendingEventCount === 0, 2000, 'boot event acknowledged');
    const raised: DeviceEvent[] = [];
    c.on('event', (e) => raised.push(e));
    c.linkDown();
    await waitFor(() => broker.wills(ID).length === 1, 2000, 'will after link loss');
    c.mainsLoss(true);
    c.outputFault(1, 'open');
    c.relayTrip();
    expect(c.pendingEvents.map((e) => e.type)).toEqual(['mains_lost', 'output_fault', 'relay_tripped']);
    await sleep(100);
    expect(events()).toHaveLength(0);
    c.linkUp();
    await waitFor(() => events().length === 3, 3000, 'flushed events');
    expect(events().map((e) => e.json)).toEqual(raised);
    // Flushed after the new birth, not before.
    const births = broker.from(ID, 'birth');
    expect(births).toHaveLength(2);
    const order = broker.publishes.filter((p) => p.clientId === ID && !p.will);
    expect(order.indexOf(births[1])).toBeLessThan(order.indexOf(events()[0]));
    await waitFor(() => c.pendingEvents.length === 0, 2000, 'flushed events acknowledged');
  });

  it('flushes a large backlog with at most 10 publishes unacknowledged at a time', async () => {
    await make().start();
    await waitFor(() => c.pendingEventCount === 0, 2000, 'boot event acknowledged');
    c.linkDown();
    for (let i = 0; i < 30; i++) {
      c.outputFault(0, 'open');
      c.outputRestore(0);
    }
    const ids = c.pendingEvents.map((e) => e.id);
    expect(ids).toHaveLength(60);
    broker.qos1DelayMs = 5;
    broker.maxConcurrentQos1.clear();
    c.linkUp();
    await waitFor(() => events().length === 60, 5000, 'backlog delivered');
    expect(events().map((e) => e.json.id)).toEqual(ids);
    const peak = broker.maxConcurrentQos1.get(ID)!;
    expect(peak).toBeLessThanOrEqual(10);
    expect(peak).toBeGreaterThan(1); // pipelined, not stop-and-wait
  });

  it('keeps only the newest events when more pile up offline than the buffer holds', async () => {
    await make({ eventBuffer: 5 }).start();
    // Acknowledged, not just arrived: an unacknowledged boot event would rightly be resent after the link loss.
    await waitFor(() => c.pendingEventCount === 0, 2000, 'boot event acknowledged');
    c.linkDown();
    const raised: string[] = [];
    c.on('event', (e) => raised.push(e.id));
    for (let i = 0; i < 4; i++) {
      c.overheat(90);
      c.coolDown();
    }
    expect(c.eventsOverflowed).toBe(3);
    c.linkUp();
    await waitFor(() => events().length === 5, 3000, 'flushed events');
    expect(events().map((e) => e.json.id)).toEqual(raised.slice(3));
  });

  it('resends an event that was in flight when the connection died (same id)', async () => {
    await make({ keepaliveS: 5 }).start();
    // Acknowledged, not just arrived: an unacknowledged boot event would rightly be resent after the link loss.
    await waitFor(() => c.pendingEventCount === 0, 2000, 'boot event acknowledged');
    c.linkDown(undefined, { mode: 'blackhole' });
    c.outputFault(0, 'short');
    const id = c.pendingEvents[0].id;
    await sleep(50);
    expect(events()).toHaveLength(0); // swallowed by the dead link
    c.linkDown(); // the modem gives up on the connection
    c.linkUp();
    const e = await waitFor(() => events()[0], 3000, 'resent event');
    expect(e.json).toMatchObject({ id, type: 'output_fault', output: { index: 0, state: 'short' } });
  });

  it('survives a black hole short enough for the connection to live: held traffic flows when it ends', async () => {
    await make().start();
    c.linkDown(undefined, { mode: 'blackhole' });
    expect(c.online).toBe(true); // the device cannot tell yet
    c.mainsLoss(true);
    const t = c.sendTelemetry();
    await sleep(80);
    expect(events()).toHaveLength(0);
    c.linkUp();
    await waitFor(() => events().length === 1, 2000, 'event after black hole');
    await waitFor(() => broker.from(ID, 'telemetry').some((x) => x.json.seq === t!.seq), 2000, 'held telemetry');
    expect(broker.from(ID, 'birth')).toHaveLength(1); // same connection throughout
    expect(broker.wills(ID)).toHaveLength(0);
  });
});
