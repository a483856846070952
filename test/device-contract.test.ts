import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { CATALOG } from '../schemas/device-protocol/catalog.ts';
import type { Birth } from '../schemas/device-protocol/presence.ts';
import { deviceTopic } from '../schemas/device-protocol/topics.ts';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/** What docs/device-protocol.md §2 and §3 say a device MUST NOT do, enforced by the broker. */
let srv: TestServer;
let fleet: { id: string; secret: string }[];
const seen: string[] = [];

beforeAll(async () => {
  srv = await startServer();
  fleet = await provision(srv, 6, 'commune-contract');
  srv.app.loa.broker.on('publish', (packet, client) => {
    if (client) seen.push(`${client.id} ${packet.topic}`);
  });
});
afterAll(() => srv?.close());

const as = (who: { id: string; secret: string }) => ({ clientId: who.id, username: who.id, password: who.secret });
const rejected = async (reason: string) => {
  const m = await srv.api('GET', '/metrics');
  const hit = new RegExp(`loa_mqtt_messages_rejected_total\\{reason="${reason}"\\} (\\d+)`).exec(m.body);
  return hit ? Number(hit[1]) : 0;
};
const connackCode = (err: unknown) => (err as { code?: number }).code;
/** The session the server holds for this cluster, if any (through the device link, whichever broker runs). */
const session = (id: string) => (srv.app.loa.link.isConnected(id) ? id : undefined);

describe('CONNECT (§2.2, §2.3)', () => {
  it('accepts MQTT 3.1.1 (protocol level 4)', async () => {
    const c = await connectRaw(srv.mqttUrl, { ...as(fleet[0]), protocolVersion: 4 });
    expect(c.connected).toBe(true);
    c.end(true);
  });

  it('refuses MQTT 3.1 (protocol level 3) with CONNACK 1', async () => {
    const err = await connectRaw(srv.mqttUrl, { ...as(fleet[1]), protocolId: 'MQIsdp', protocolVersion: 3 }).then(
      (c) => (c.end(true), null),
      (e: unknown) => e,
    );
    expect(connackCode(err)).toBe(1);
    expect(await rejected('protocol_version')).toBeGreaterThan(0);
    expect(session(fleet[1].id)).toBeUndefined();
  });

  it('refuses keep alive 0 with CONNACK 2 and closes the connection', async () => {
    const err = await connectRaw(srv.mqttUrl, { ...as(fleet[2]), keepalive: 0 }).then(
      (c) => (c.end(true), null),
      (e: unknown) => e,
    );
    expect(connackCode(err)).toBe(2);
    expect(await rejected('keepalive_zero')).toBeGreaterThan(0);
    expect(session(fleet[2].id)).toBeUndefined();
  });
});

describe('QoS (§3, §3.2)', () => {
  it('closes the connection on a QoS 2 publish and does not deliver it', async () => {
    const c: MqttClient = await connectRaw(srv.mqttUrl, as(fleet[3]));
    const topic = deviceTopic(fleet[3].id, 'event');
    const outcome = await new Promise<string>((resolve) => {
      c.once('close', () => resolve('disconnected'));
      c.publish(topic, '{}', { qos: 2 }, (err) => resolve(err ? 'disconnected' : 'acknowledged'));
    });
    expect(outcome).toBe('disconnected');
    expect(seen).not.toContain(`${fleet[3].id} ${topic}`);
    expect(await rejected('qos_not_allowed')).toBeGreaterThan(0);
    c.end(true);
  });

  it('still takes QoS 0 and 1', async () => {
    const c = await connectRaw(srv.mqttUrl, as(fleet[4]));
    const topic = deviceTopic(fleet[4].id, 'event');
    await new Promise<void>((res, rej) => c.publish(topic, '{}', { qos: 1 }, (e) => (e ? rej(e) : res())));
    c.publish(topic, '{}', { qos: 0 });
    await waitFor(() => seen.filter((s) => s === `${fleet[4].id} ${topic}`).length === 2);
    expect(c.connected).toBe(true);
    c.end(true);
  });
});

describe('birth (§5.2)', () => {
  it('shows the firmware a birth reports in GET /api/clusters/:id', async () => {
    const who = fleet[5];
    expect((await srv.api('GET', `/api/clusters/${who.id}`)).body.firmwareVersion).toBeNull();
    const birth = structuredClone(CATALOG.find((c) => c.channel === 'birth')!.example as Birth);
    birth.firmware = '3.1.7-contract';
    const c = await connectRaw(srv.mqttUrl, as(who));
    await new Promise<void>((res, rej) => c.publish(deviceTopic(who.id, 'birth'), JSON.stringify(birth), { qos: 1 }, (e) => (e ? rej(e) : res())));
    const detail = (await srv.api('GET', `/api/clusters/${who.id}`)).body;
    expect(detail.firmwareVersion).toBe('3.1.7-contract');
    expect(detail.birth.firmware).toBe('3.1.7-contract');
    const listed = (await srv.api('GET', `/api/clusters?q=${who.id}`)).body.items.find((x: { id: string }) => x.id === who.id);
    expect(listed.firmwareVersion).toBe('3.1.7-contract');
    c.end(true);
  });
});
