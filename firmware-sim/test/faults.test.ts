import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetrySchema, payloadCodec } from '../../schemas/device-protocol/index.ts';
import { SimCluster } from '../src/index.ts';
import { OUTPUTS, SECRET, TestBroker, sleep, waitFor } from './harness.ts';

let broker: TestBroker;
let c: SimCluster;
const ID = 'cum-xom-moi';
const lastEvent = () => broker.from(ID, 'event').at(-1)?.json;
const eventOf = (type: string) => waitFor(() => broker.from(ID, 'event').find((e) => e.json.type === type)?.json, 2000, type);
const tel = () => c.sendTelemetry()!;
const make = (extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}) =>
  (c = new SimCluster({ url: broker.url, id: ID, secret: SECRET, outputs: OUTPUTS, reconnectPeriodMs: 30, ...extra }));

beforeEach(async () => {
  broker = await TestBroker.start();
});
afterEach(async () => {
  await c.stop();
  await broker.close();
});

describe('physical model and fault knobs', () => {
  it('reports plausible readings in schema-valid telemetry', async () => {
    await make().start();
    for (let i = 0; i < 20; i++) {
      const t = tel();
      expect(payloadCodec(TelemetrySchema).is(t)).toBe(true);
      expect(t.mains).toMatchObject({ present: true });
      expect(t.mains.voltageV).toBeGreaterThanOrEqual(217);
      expect(t.mains.voltageV).toBeLessThanOrEqual(233);
      expect(t.backup.active).toBe(false);
      expect(t.backup.batteryV).toBeGreaterThanOrEqual(12);
      expect(t.backup.batteryV).toBeLessThanOrEqual(13.25);
      expect(t.amp.temperatureC).toBeGreaterThanOrEqual(34);
      expect(t.amp.temperatureC).toBeLessThanOrEqual(46);
      expect(t.network.rssiDbm).toBeGreaterThanOrEqual(-100);
      expect(t.network.rssiDbm).toBeLessThanOrEqual(-60);
      expect(t.outputs).toEqual([
        { index: 0, state: 'ok' },
        { index: 1, state: 'ok' },
      ]);
    }
  });

  it('mains loss: event, backup in telemetry, battery drains to a battery_low event under 20 %', async () => {
    // 60 %/s so the threshold is crossed in well under a second.
    await make({ physics: { initialBatteryPct: 21, batteryDrainPctPerMin: 3600 } }).start();
    c.mainsLoss(true);
    expect(await eventOf('mains_lost')).toMatchObject({ voltageV: 0 });
    let t = tel();
    expect(t.mains).toEqual({ present: false, voltageV: 0 });
    expect(t.backup.active).toBe(true);
    const low = await eventOf('battery_low');
    expect(low.batteryPct).toBeLessThan(20);
    t = tel();
    expect(t.backup.batteryPct).toBeLessThan(20);
    expect(t.backup.batteryV).toBeLessThan(12.25);
    c.mainsLoss(false);
    expect((await eventOf('mains_restored')).voltageV).toBeGreaterThan(200);
    expect(tel().backup.active).toBe(false);
    // One battery_low per discharge.
    expect(broker.from(ID, 'event').filter((e) => e.json.type === 'battery_low')).toHaveLength(1);
  });

  it('relay trip and reset', async () => {
    await make().start();
    c.relayTrip();
    await eventOf('relay_tripped');
    expect(tel()).toMatchObject({ relayTripped: true, backup: { active: true }, mains: { present: true } });
    c.relayReset();
    await eventOf('relay_reset');
    expect(tel()).toMatchObject({ relayTripped: false, backup: { active: false } });
  });

  it.each(['open', 'short', 'overload'] as const)('output %s fault and restore', async (fault) => {
    await make().start();
    c.outputFault(1, fault);
    expect(await eventOf('output_fault')).toMatchObject({ output: { index: 1, state: fault } });
    expect(tel().outputs).toEqual([
      { index: 0, state: 'ok' },
      { index: 1, state: fault },
    ]);
    c.outputRestore(1);
    expect(await eventOf('output_restored')).toMatchObject({ output: { index: 1, state: 'ok' } });
    expect(tel().outputs[1].state).toBe('ok');
  });

  it('overheat and cool down', async () => {
    await make().start();
    c.overheat(60); // warm but not overheating: no event
    await sleep(30);
    expect(broker.from(ID, 'event').some((e) => e.json.type === 'overheat')).toBe(false);
    c.overheat(88);
    expect(await eventOf('overheat')).toMatchObject({ temperatureC: 88 });
    expect(tel().amp.temperatureC).toBeGreaterThan(87);
    c.coolDown();
    await eventOf('overheat_cleared');
    expect(lastEvent().type).toBe('overheat_cleared');
    expect(tel().amp.temperatureC).toBeLessThan(50);
  });

  it('playing shows in telemetry', async () => {
    await make().start();
    c.play({ kind: 'content', ref: 'airing-17', title: 'Bản tin sáng' });
    expect(tel().playing).toEqual({ kind: 'content', ref: 'airing-17', title: 'Bản tin sáng' });
    c.play(null);
    expect(tel().playing).toBeNull();
  });

  it('network delay applies to incoming and outgoing messages', async () => {
    await make().start();
    await waitFor(() => c.clockOffsetMs !== null, 2000, 'sync');
    c.network({ delayMs: 100 });
    const cmd = broker.command('ping');
    const sent = Date.now();
    let handledAt = 0;
    c.once('command', () => (handledAt = Date.now()));
    await broker.sendCommand({ cluster: ID }, cmd);
    const r = await waitFor(() => broker.from(ID, 'reply')[0], 2000, 'reply');
    expect(handledAt - sent).toBeGreaterThanOrEqual(95);
    expect(r.at - sent).toBeGreaterThanOrEqual(195);
  });

  it('QoS 0 loss drops telemetry but not events; a clean link delivers again', async () => {
    await make().start();
    const before = await waitFor(() => broker.from(ID, 'telemetry').length, 2000, 'telemetry on connect');
    c.network({ dropRate: 1 });
    for (let i = 0; i < 5; i++) tel();
    c.outputFault(0, 'open');
    await eventOf('output_fault');
    await sleep(50);
    expect(broker.from(ID, 'telemetry')).toHaveLength(before);
    c.network(null);
    tel();
    await waitFor(() => broker.from(ID, 'telemetry').length === before + 1, 2000, 'telemetry after recovery');
  });

  it('dropQos1 loses a command the device then never answers, and an event that is retried later', async () => {
    await make().start();
    await waitFor(() => c.clockOffsetMs !== null, 2000, 'sync');
    c.network({ dropRate: 1, dropQos1: true });
    const cmd = broker.command('ping');
    await broker.sendCommand({ cluster: ID }, cmd);
    c.relayTrip();
    await sleep(80);
    expect(broker.from(ID, 'reply')).toHaveLength(0);
    expect(broker.from(ID, 'event').some((e) => e.json.type === 'relay_tripped')).toBe(false);
    c.network(null);
    tel(); // the next report retries the outbox
    await eventOf('relay_tripped');
    expect(c.counters.commandsReceived).toBe(0);
  });

  it('reboot(watchdog) drops the connection (will fires) and returns with that boot reason', async () => {
    await make({ bootDelayMs: 50 }).start();
    await c.reboot('watchdog');
    await waitFor(() => broker.wills(ID).length === 1, 2000, 'will');
    await waitFor(() => broker.from(ID, 'birth').length === 2, 2000, 'second birth');
    expect(broker.from(ID, 'birth')[1].json.bootReason).toBe('watchdog');
    await waitFor(() => broker.from(ID, 'event').some((e) => e.json.type === 'reboot' && e.json.reason === 'watchdog'), 2000, 'reboot event');
    expect(tel().uptimeS).toBe(0);
  });

  it('link flap: repeated drops and returns until stopped', async () => {
    await make({ reconnectPeriodMs: 10, reconnectJitter: 0 }).start();
    c.linkFlap({ downMs: 40, upMs: 120, jitter: 0 });
    await waitFor(() => c.counters.connects >= 3, 3000, 'two flaps');
    c.linkFlap(null);
    await waitFor(() => c.online, 2000, 'back online');
    const n = c.counters.connects;
    await sleep(300);
    expect(c.counters.connects).toBe(n);
    expect(broker.wills(ID).length).toBeGreaterThanOrEqual(2);
  });
});
