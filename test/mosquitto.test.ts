import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { SimCluster } from '../firmware-sim/src/index.ts';
import { deviceTopic } from '../schemas/device-protocol/topics.ts';
import type { ExternalLink } from '../server/src/mqtt/external-link.ts';
import { rawDevice, exampleTelemetry } from './helpers/device.ts';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from './helpers/mosquitto.ts';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * The server as a client of a real Mosquitto 2 (LOA_MQTT_URL, issue 13 "External MQTT broker"): per-device accounts
 * and ACL roles through the dynamic-security plugin, simulated clusters connecting to Mosquitto, not to the server.
 */
const available = mosquittoAvailable();
if (!available) console.warn('test/mosquitto.test.ts skipped: /usr/sbin/mosquitto and its dynamic-security plugin are not installed (apt-get install mosquitto)');

let broker: MosquittoServer;
let srv: TestServer;
let fleet: { id: string; secret: string }[];
const sims: SimCluster[] = [];
const clients: MqttClient[] = [];
const outputs = [0, 1].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));
const LONG = 30_000;

/** Whether the broker holds an account for the cluster (provisioning reaches it asynchronously). */
const hasAccount = async (id: string) => !(await (srv.app.loa.link as ExternalLink).dynsec.run([{ command: 'getClient', username: id }]))[0].error;
const online = async (id: string) => (await srv.api('GET', `/api/clusters/${id}`)).body.health?.online === true;

describe.skipIf(!available)('on an external Mosquitto with dynamic security', () => {
  beforeAll(async () => {
    broker = await startMosquitto();
    srv = await startServer({
      LOA_MQTT_URL: broker.url,
      LOA_MQTT_USERNAME: broker.adminUser,
      LOA_MQTT_PASSWORD: broker.adminPassword,
      LOA_MQTT_CLIENT_ID: `loa-test-${process.pid}`,
      LOA_TELEMETRY_INTERVAL_S: '5',
    });
    fleet = await provision(srv, 3, 'xa-mosquitto');
    for (const c of fleet) await waitFor(() => hasAccount(c.id), LONG, 100);
  }, 60_000);
  afterAll(async () => {
    if (process.env.LOA_DEBUG_MOSQ) console.log(broker?.log());
    await Promise.all(sims.map((s) => s.stop()));
    for (const c of clients) c.end(true);
    await srv?.close();
    await broker?.stop();
  });

  it('brings simulated clusters online through Mosquitto and ingests their telemetry', async () => {
    for (const c of fleet.slice(0, 2)) {
      const s = new SimCluster({ url: broker.url, id: c.id, secret: c.secret, outputs });
      sims.push(s);
      await s.start();
    }
    for (const c of fleet.slice(0, 2)) await waitFor(() => online(c.id), LONG, 100);
    expect(srv.app.loa.link.isConnected(fleet[0].id)).toBe(true);
    await waitFor(() => srv.app.loa.services.health.peek(fleet[0].id)?.telemetry, LONG, 100);
    const detail = await srv.api('GET', `/api/clusters/${fleet[0].id}`);
    expect(detail.body).toMatchObject({ id: fleet[0].id, health: { online: true } });
  }, 60_000);

  it('delivers a command to one cluster and records its reply', async () => {
    const r = await srv.api('POST', `/api/clusters/${fleet[0].id}/commands`, { name: 'setVolume', args: { volume: 35 }, waitS: 20 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'setVolume', state: 'ok', args: { volume: 35 } });
    expect(sims[0].volume).toBe(35);
    const list = await srv.api('GET', `/api/clusters/${fleet[0].id}/commands`);
    expect(list.body[0]).toMatchObject({ id: r.body.id, state: 'ok' });
  }, 60_000);

  it("lets Mosquitto refuse a device's publish and subscription on another cluster's topics", async () => {
    // An observer with the server's account sees what the broker lets through.
    const seen: string[] = [];
    const observer = await connectRaw(broker.url, { username: broker.adminUser, password: broker.adminPassword, clientId: `observer-${process.pid}` });
    clients.push(observer);
    await observer.subscribeAsync(['loa/v1/dev/+/telemetry', 'loa/v1/dev/+/event'], { qos: 1 });
    observer.on('message', (topic) => seen.push(topic));
    const intruder = await rawDevice(broker.url, fleet[2]);
    clients.push(intruder.client);
    const victim = fleet[1].id;
    await new Promise<void>((res, rej) => intruder.client.publish(deviceTopic(victim, 'telemetry'), JSON.stringify({ ...exampleTelemetry(), ts: Date.now() }), { qos: 1 }, (e) => (e ? rej(e) : res())));
    // mqtt.js rejects a subscription whose SUBACK carries the failure code 128 (ErrorWithSubackPacket).
    const refused = await intruder.client.subscribeAsync(deviceTopic(victim, 'cmd'), { qos: 1 }).then(() => undefined, (e: { packet?: { granted?: unknown[] } }) => e);
    expect(refused?.packet?.granted).toEqual([128]);
    // Its own topic passes; messages of one connection arrive in order, so the refused one would have come first.
    await intruder.telemetry();
    await waitFor(() => seen.includes(deviceTopic(fleet[2].id, 'telemetry')), LONG, 50);
    expect(seen).not.toContain(deviceTopic(victim, 'telemetry'));
    await waitFor(() => broker.log().includes('Denied PUBLISH'), LONG, 50); // its log comes on a pipe of its own
    await intruder.end();
  }, 60_000);

  it('cuts a revoked cluster off at once and refuses its reconnection', async () => {
    const victim = fleet[2];
    const dev = await rawDevice(broker.url, victim);
    clients.push(dev.client);
    await dev.online();
    await waitFor(() => online(victim.id), LONG, 100);
    const closed = new Promise<void>((r) => dev.client.once('close', () => r()));
    const r = await srv.api('POST', `/api/clusters/${victim.id}/credential/revoke`);
    expect(r.status).toBeLessThan(300);
    await closed;
    await waitFor(async () => !(await online(victim.id)), LONG, 100);
    expect(await hasAccount(victim.id)).toBe(false);
    await expect(connectRaw(broker.url, { clientId: victim.id, username: victim.id, password: victim.secret, keepalive: 30 })).rejects.toThrow(/not authori[sz]ed|bad user/i);
  }, 60_000);
});

