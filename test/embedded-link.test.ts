import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { deviceTopic, groupTopic } from '../schemas/device-protocol/topics.ts';
import type { DeviceDirectory } from '../server/src/devices/directory.ts';
import { listen, type Listener } from '../server/src/mqtt/broker.ts';
import { createEmbeddedLink, type EmbeddedLink } from '../server/src/mqtt/embedded-link.ts';
import { installPolicy } from '../server/src/mqtt/policy.ts';
import { waitFor } from './helpers/server.ts';

/**
 * The device link over the embedded broker, as the server wires it (broker, policy, link) and as devices reach it:
 * mqtt.js clients over TCP. Everything the services and device handlers need is asserted through the link alone.
 */
const A = 'cl-link-a';
const B = 'cl-link-b';
let link: EmbeddedLink;
let tcp: Listener;
let url: string;
let groups: Map<string, string[]>;
let revoked: Set<string>;
const clients: MqttClient[] = [];

beforeEach(async () => {
  groups = new Map([[A, ['a-xa-1', 'a-ap-1']], [B, ['a-xa-1']]]);
  revoked = new Set();
  const directory = {
    authenticate: (id: string, secret: string) => secret === `secret-${id}` && !revoked.has(id),
    has: (id: string) => groups.has(id),
    groupsOf: (id: string) => groups.get(id) ?? [],
  } as unknown as DeviceDirectory;
  link = await createEmbeddedLink();
  installPolicy(link.broker, { directory, maxPacketBytes: 65_536, publishRate: 100, maxSubscriptions: 16, onReject: () => undefined });
  tcp = await listen(link.broker, { host: '127.0.0.1', port: 0, maxPacketBytes: 65_536, onTooLarge: () => undefined });
  url = `mqtt://127.0.0.1:${tcp.port}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await tcp.close();
  await link.close();
});

async function device(id: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: id, username: id, password: `secret-${id}`, reconnectPeriod: 0, protocolVersion: 4, ...extra });
  clients.push(c);
  return c;
}
const closed = (c: MqttClient) => new Promise<void>((r) => (c.connected ? c.once('close', () => r()) : r()));
const received = (c: MqttClient) => {
  const got: string[] = [];
  c.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  return got;
};
const tick = (ms = 150) => new Promise((r) => setTimeout(r, ms));

describe('the embedded device link', () => {
  it('reports a session up when a cluster connects and down when it leaves', async () => {
    const events: string[] = [];
    link.onSessionUp((id) => events.push(`up ${id}`));
    link.onSessionDown((id) => events.push(`down ${id}`));
    const c = await device(A);
    await waitFor(() => events.length === 1);
    expect(link.isConnected(A)).toBe(true);
    await c.endAsync();
    await waitFor(() => events.length === 2);
    expect(events).toEqual([`up ${A}`, `down ${A}`]);
    expect(link.isConnected(A)).toBe(false);
  });

  it('keeps a cluster connected when a newer session of it takes over the old one', async () => {
    const events: string[] = [];
    link.onSessionUp(() => events.push('up'));
    link.onSessionDown(() => events.push('down'));
    const old = await device(A);
    const oldClosed = closed(old);
    const now = await device(A);
    await oldClosed;
    await tick();
    expect(events.at(-1)).toBe('up'); // a down, if any, came before the newer session's up
    expect(link.isConnected(A)).toBe(true);
    await now.endAsync();
    await waitFor(() => !link.isConnected(A));
    expect(events.at(-1)).toBe('down');
  });

  it('does not count a refused CONNECT as a session', async () => {
    const up: string[] = [];
    link.onSessionUp((id) => up.push(id));
    await expect(device(A, { password: 'wrong' })).rejects.toThrow();
    expect(up).toEqual([]);
    expect(link.isConnected(A)).toBe(false);
  });

  it('cuts the session of a revoked cluster, and the cluster cannot come back', async () => {
    const c = await device(A);
    await waitFor(() => link.isConnected(A));
    revoked.add(A);
    const gone = closed(c);
    await link.disconnect(A);
    await gone;
    expect(link.isConnected(A)).toBe(false);
    await expect(device(A)).rejects.toThrow();
    await link.disconnect(A); // no session: nothing to do
  });

  it('drops the group subscriptions a cluster is no longer allowed, and only those', async () => {
    const c = await device(A);
    const got = received(c);
    await c.subscribeAsync([groupTopic('a-xa-1', 'play'), groupTopic('a-ap-1', 'play'), groupTopic('a-ap-1', 'cmd'), deviceTopic(A, 'cmd')], { qos: 1 });
    groups.set(A, ['a-xa-1', 'a-ap-2']); // moved to another hamlet
    const dropped = await link.dropGroupSubscriptions(A, groups.get(A)!);
    expect(dropped.sort()).toEqual([groupTopic('a-ap-1', 'cmd'), groupTopic('a-ap-1', 'play')]);
    expect(await link.dropGroupSubscriptions(A, groups.get(A)!)).toEqual([]);
    await link.publish(groupTopic('a-ap-1', 'play'), Buffer.from('old'), { qos: 1 });
    await link.publish(groupTopic('a-xa-1', 'play'), Buffer.from('kept'), { qos: 1 });
    await link.publish(deviceTopic(A, 'cmd'), Buffer.from('own'), { qos: 1 });
    await waitFor(() => got.length === 2);
    await tick();
    expect(got).toEqual([`${groupTopic('a-xa-1', 'play')} kept`, `${deviceTopic(A, 'cmd')} own`]);
    expect(await link.dropGroupSubscriptions(B, [])).toEqual([]); // not connected
  });

  it('tells which group subscriptions the broker granted, not the refused ones', async () => {
    const seen: string[] = [];
    link.onGroupSubscribed((id, subs) => seen.push(...subs.map((s) => `${id} ${s.groupId} ${s.channel}`)));
    const c = await device(B);
    // mqtt.js rejects a SUBACK that refuses any of them; the broker granted the others all the same.
    await c.subscribeAsync([groupTopic('a-xa-1', 'play'), groupTopic('a-ap-1', 'play'), deviceTopic(B, 'config')], { qos: 1 }).catch(() => undefined);
    await waitFor(() => seen.length > 0);
    await tick();
    expect(seen).toEqual([`${B} a-xa-1 play`]);
  });

  it('hands each channel its own publishes, authorised ones only, and acknowledges once the handler settled', async () => {
    const got: string[] = [];
    let finish!: () => void;
    link.onMessage('telemetry', (id, payload) => void got.push(`telemetry ${id} ${payload.toString()}`));
    link.onMessage('airing', (id, payload) => new Promise<void>((r) => (finish = () => (got.push(`airing ${id} ${payload.toString()}`), r()))));
    const stop = link.onMessage('event', (id) => void got.push(`event ${id}`));
    stop();
    const c = await device(A);
    await c.publishAsync(deviceTopic(A, 'telemetry'), '{"n":1}', { qos: 1 });
    await c.publishAsync(deviceTopic(A, 'event'), '{}', { qos: 1 }); // nobody listens any more
    let acked = false;
    const ack = c.publishAsync(deviceTopic(A, 'airing'), '{"n":2}', { qos: 1 }).then(() => (acked = true));
    await waitFor(() => typeof finish === 'function');
    await tick();
    expect(acked).toBe(false);
    finish();
    await ack;
    // Another cluster's topic is refused by the policy: the connection is closed, no handler runs.
    const gone = closed(c);
    c.publish(deviceTopic(B, 'telemetry'), '{"n":3}', { qos: 1 });
    await gone;
    expect(got).toEqual([`telemetry ${A} {"n":1}`, `airing ${A} {"n":2}`]);
  });

  it('publishes to a device with the QoS and retain asked for', async () => {
    const c = await device(A);
    const got = received(c);
    await c.subscribeAsync(deviceTopic(A, 'cmd'), { qos: 1 });
    await link.publish(deviceTopic(A, 'cmd'), Buffer.from('{"op":1}'), { qos: 1 });
    await link.publish(deviceTopic(A, 'config'), Buffer.from('{"v":1}'), { qos: 1, retain: true });
    await waitFor(() => got.length === 1);
    // The retained config reaches a subscription made after it was published.
    await c.subscribeAsync(deviceTopic(A, 'config'), { qos: 1 });
    await waitFor(() => got.length === 2);
    expect(got).toEqual([`${deviceTopic(A, 'cmd')} {"op":1}`, `${deviceTopic(A, 'config')} {"v":1}`]);
    expect(link.up).toBe(true);
  });
});
