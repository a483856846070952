import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BirthSchema, StatusSchema, TelemetrySchema, payloadCodec } from '../../schemas/device-protocol/index.ts';
import { SimCluster } from '../src/index.ts';
import { OUTPUTS, SECRET, TestBroker, waitFor } from './harness.ts';

let broker: TestBroker;
const clusters: SimCluster[] = [];
const make = (id: string, extra: Partial<ConstructorParameters<typeof SimCluster>[0]> = {}) => {
  const c = new SimCluster({ url: broker.url, id, secret: SECRET, outputs: OUTPUTS, reconnectPeriodMs: 50, bootDelayMs: 50, ...extra });
  clusters.push(c);
  return c;
};

beforeEach(async () => {
  broker = await TestBroker.start();
});
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.stop()));
  await broker.close();
});

describe('presence', () => {
  it('connects with username = clientId, the secret, and a retained QoS 1 offline will', async () => {
    broker.secrets.set('cum-cho', SECRET);
    await make('cum-cho', { serial: 'LX4-1', model: 'LX-400' }).start();
    const conn = broker.connects.find((c) => c.clientId === 'cum-cho')!;
    expect(conn).toMatchObject({ username: 'cum-cho', password: SECRET, keepalive: 60, clean: true });
    expect(conn.will).toEqual({ topic: 'loa/v1/dev/cum-cho/status', payload: '{"state":"offline"}', qos: 1, retain: true });
  });

  it('subscribes to its own topics, then publishes online (retained, QoS 1) and then birth (QoS 1, not retained)', async () => {
    await make('cum-cho').start();
    await waitFor(() => broker.from('cum-cho', 'birth').length === 1, 2000, 'birth');
    expect([...broker.subs.get('cum-cho')!].sort()).toEqual(
      ['loa/v1/dev/cum-cho/cmd', 'loa/v1/dev/cum-cho/config', 'loa/v1/dev/cum-cho/time/res', 'loa/v1/dev/cum-cho/manifest'].sort(),
    );
    const status = broker.from('cum-cho', 'status');
    expect(status).toHaveLength(1);
    expect(status[0]).toMatchObject({ qos: 1, retain: true, json: { state: 'online' } });
    expect(payloadCodec(StatusSchema).decode(status[0].payload).ok).toBe(true);
    const birth = broker.from('cum-cho', 'birth')[0];
    expect(birth).toMatchObject({ qos: 1, retain: false });
    const decoded = payloadCodec(BirthSchema).decode(birth.payload);
    expect(decoded.ok).toBe(true);
    expect(birth.json).toMatchObject({ protocol: 1, bootReason: 'power_on', outputs: OUTPUTS });
    const order = broker.publishes.filter((p) => p.clientId === 'cum-cho').map((p) => p.topic.split('/').slice(4).join('/'));
    expect(order.indexOf('status')).toBeLessThan(order.indexOf('birth'));
    // Telemetry on connect: QoS 0, not retained, valid.
    const tel = await waitFor(() => broker.from('cum-cho', 'telemetry')[0]);
    expect(tel).toMatchObject({ qos: 0, retain: false });
    expect(payloadCodec(TelemetrySchema).decode(tel.payload).ok).toBe(true);
  });

  it('stop() publishes offline retained and disconnects cleanly (no will)', async () => {
    const c = make('cum-cho');
    await c.start();
    await c.stop();
    const status = broker.on('loa/v1/dev/cum-cho/status');
    expect(status.map((s) => [s.clientId, s.json.state, s.retain, s.will])).toEqual([
      ['cum-cho', 'online', true, false],
      ['cum-cho', 'offline', true, false],
    ]);
    await new Promise((r) => setTimeout(r, 50));
    expect(broker.wills('cum-cho')).toHaveLength(0);
    expect(c.status).toBe('off');
  });

  it('kill() drops TCP without DISCONNECT so the broker publishes the will', async () => {
    const c = make('cum-cho');
    await c.start();
    c.kill();
    const will = await waitFor(() => broker.wills('cum-cho')[0], 2000, 'will');
    expect(will).toMatchObject({ topic: 'loa/v1/dev/cum-cho/status', qos: 1, retain: true });
    expect(will.payload.toString()).toBe('{"state":"offline"}');
  });

  it('keeps retrying with backoff when the broker refuses its credentials, and gets in once they are right', async () => {
    broker.secrets.set('cum-cho', 'a-different-secret-0123456789');
    const c = make('cum-cho', { reconnectPeriodMs: 20, reconnectJitter: 0 });
    const started = c.start();
    await waitFor(() => c.counters.connectErrors >= 2, 3000, 'refused attempts');
    expect(c.online).toBe(false);
    broker.secrets.set('cum-cho', SECRET);
    await started;
    expect(c.online).toBe(true);
  });

  it('reconnects after the broker drops it and announces itself again', async () => {
    const c = make('cum-cho');
    await c.start();
    c.reconnectStorm({ maxDelayMs: 20 });
    await waitFor(() => broker.from('cum-cho', 'birth').length === 2, 3000, 'second birth');
    expect(c.counters.connects).toBe(2);
    expect(broker.from('cum-cho', 'status').map((s) => s.json.state)).toEqual(['online', 'online']);
    // The storm dropped TCP without DISCONNECT: the broker announced the device offline in between.
    expect(broker.wills('cum-cho')).toHaveLength(1);
  });
});
