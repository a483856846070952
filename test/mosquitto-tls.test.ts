import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TLSSocket } from 'node:tls';
import type { MqttClient } from 'mqtt';
import { SimCluster } from '../firmware-sim/src/index.ts';
import { deviceTopic } from '../schemas/device-protocol/topics.ts';
import type { ExternalLink } from '../server/src/mqtt/external-link.ts';
import { exampleTelemetry } from './helpers/device.ts';
import { mosquittoAvailable, startMosquitto, type MosquittoServer, type MosquittoTls } from './helpers/mosquitto.ts';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * The external link over TLS (issue 13): the server trusts the broker through LOA_MQTT_CA_FILE and presents a client
 * certificate to a listener that requires one; devices use their own TLS listener. The broker's configuration carries
 * two of the limits docs/mosquitto.md maps from the embedded broker, each exercised once.
 */
const available = mosquittoAvailable();
if (!available) console.warn('test/mosquitto-tls.test.ts skipped: /usr/sbin/mosquitto and its dynamic-security plugin are not installed (apt-get install mosquitto)');

const MAX_PACKET = 65_536; // LOA_MQTT_MAX_PACKET_BYTES' default
/**
 * The embedded guard (packet-guard.ts) accepts a remaining length up to the limit less 5; Mosquitto cuts a packet whose
 * remaining length + 1 exceeds max_packet_size (2.0.11): the limit less 4 is the same boundary (docs/mosquitto.md).
 */
const MOSQUITTO_MAX_PACKET = MAX_PACKET - 4;
const LARGEST_REMAINING = MAX_PACKET - 5;
const LONG = 30_000;
let broker: MosquittoServer;
let tls: MosquittoTls;
let srv: TestServer;
let fleet: { id: string; secret: string }[];
const sims: SimCluster[] = [];
const clients: MqttClient[] = [];
const outputs = [0, 1].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));

const serverEnv = (o: Record<string, string> = {}): Record<string, string> => ({
  LOA_MQTT_URL: tls.mtlsUrl,
  LOA_MQTT_USERNAME: broker.adminUser,
  LOA_MQTT_PASSWORD: broker.adminPassword,
  LOA_MQTT_CA_FILE: tls.caFile,
  LOA_MQTT_CLIENT_CERT_FILE: tls.clientCertFile,
  LOA_MQTT_CLIENT_KEY_FILE: tls.clientKeyFile,
  LOA_MQTT_CLIENT_ID: `loa-tls-${process.pid}`,
  LOA_TELEMETRY_INTERVAL_S: '5',
  ...o,
});

/** A refused start must come back as an error, quickly: a link that retried forever would hang the server's start. */
async function startFails(env: Record<string, string>): Promise<{ message: string; ms: number }> {
  const t0 = Date.now();
  const err = await startServer(env).then(
    async (s) => {
      await s.close();
      return null;
    },
    (e: Error) => e,
  );
  expect(err, 'the server started').toBeInstanceOf(Error);
  return { message: err!.message, ms: Date.now() - t0 };
}

const hasAccount = async (id: string) => !(await (srv.app.loa.link as ExternalLink).dynsec.run([{ command: 'getClient', username: id }]))[0].error;
const online = async (id: string) => (await srv.api('GET', `/api/clusters/${id}`)).body.health?.online === true;
const device = (who: { id: string; secret: string }) =>
  connectRaw(tls.url, { clientId: who.id, username: who.id, password: who.secret, keepalive: 60, protocolVersion: 4, ca: tls.ca, rejectUnauthorized: true });

describe.skipIf(!available)('on Mosquitto over TLS', () => {
  beforeAll(async () => {
    broker = await startMosquitto({ tls: true, conf: [`max_packet_size ${MOSQUITTO_MAX_PACKET}`] });
    tls = broker.tls!;
    srv = await startServer(serverEnv());
    fleet = await provision(srv, 3, 'xa-mosquitto-tls');
    for (const c of fleet) await waitFor(() => hasAccount(c.id), LONG, 100);
  }, 60_000);
  afterAll(async () => {
    if (process.env.LOA_DEBUG_MOSQ) console.log(broker?.log());
    await Promise.all(sims.map((s) => s.stop()));
    for (const c of clients) c.end(true);
    await srv?.close();
    await broker?.stop();
  });

  it('connects the server with the CA and its client certificate, verified', () => {
    const socket = (srv.app.loa.link as ExternalLink).client.stream as TLSSocket;
    expect(socket.encrypted).toBe(true);
    expect(socket.authorized).toBe(true);
    expect(socket.getPeerCertificate().subjectaltname).toBe('IP Address:127.0.0.1');
    expect(srv.app.loa.link.up).toBe(true);
  });

  it('brings simulated clusters online over mqtts and ingests their telemetry', async () => {
    for (const c of fleet.slice(0, 2)) {
      const s = new SimCluster({ url: tls.url, ca: tls.ca, rejectUnauthorized: true, id: c.id, secret: c.secret, outputs });
      sims.push(s);
      await s.start();
    }
    for (const c of fleet.slice(0, 2)) await waitFor(() => online(c.id), LONG, 100);
    expect(srv.app.loa.link.isConnected(fleet[0].id)).toBe(true);
    await waitFor(() => srv.app.loa.services.health.peek(fleet[1].id)?.telemetry, LONG, 100);
    const detail = await srv.api('GET', `/api/clusters/${fleet[1].id}`);
    expect(detail.body).toMatchObject({ id: fleet[1].id, health: { online: true } });
  }, 60_000);

  it('refuses to start, at once and saying why, when the broker certificate is not signed by LOA_MQTT_CA_FILE', async () => {
    const wrong = await startFails(serverEnv({ LOA_MQTT_CA_FILE: tls.otherCaFile, LOA_MQTT_CLIENT_ID: `loa-tls-wrong-${process.pid}` }));
    expect(wrong.message).toMatch(/external MQTT broker mqtts:\/\/127\.0\.0\.1:\d+: the broker's certificate is not trusted: LOA_MQTT_CA_FILE/);
    expect(wrong.ms).toBeLessThan(10_000);
    // Without a CA file only public CAs are trusted: a private CA's broker is refused as well.
    const none = await startFails(serverEnv({ LOA_MQTT_CA_FILE: '', LOA_MQTT_CLIENT_ID: `loa-tls-none-${process.pid}` }));
    expect(none.message).toMatch(/not trusted/);
    expect(none.ms).toBeLessThan(10_000);
  }, 60_000);

  it("checks the certificate's name: a trusted certificate for another name is refused", async () => {
    const r = await startFails(serverEnv({ LOA_MQTT_TLS_SERVERNAME: 'broker.example', LOA_MQTT_CLIENT_ID: `loa-tls-name-${process.pid}` }));
    expect(r.message).toMatch(/does not name this host.*LOA_MQTT_TLS_SERVERNAME/);
    expect(r.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(r.ms).toBeLessThan(10_000);
  }, 60_000);

  it('is refused by a listener that requires a client certificate when it has none', async () => {
    const r = await startFails(serverEnv({ LOA_MQTT_CLIENT_CERT_FILE: '', LOA_MQTT_CLIENT_KEY_FILE: '', LOA_MQTT_CLIENT_ID: `loa-tls-nocert-${process.pid}` }));
    expect(r.message).toMatch(/external MQTT broker .*: the broker refused the TLS handshake.*LOA_MQTT_CLIENT_CERT_FILE/);
    expect(r.ms).toBeLessThan(15_000);
  }, 60_000);

  it('refuses a device that does not trust the broker certificate', async () => {
    const who = fleet[2];
    await expect(connectRaw(tls.url, { clientId: who.id, username: who.id, password: who.secret, rejectUnauthorized: true })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it("lets Mosquitto's max_packet_size cut a device off at the embedded limit, and max_qos 1 a QoS 2 publish", async () => {
    const who = fleet[2];
    // On its own topic, so only the size can be the reason; a QoS 0 PUBLISH's remaining length is 2 + topic + payload.
    const topic = deviceTopic(who.id, 'event');
    const payload = (remaining: number) => Buffer.alloc(remaining - 2 - Buffer.byteLength(topic), 'x');
    const dev = await device(who);
    clients.push(dev);
    const cut = new Promise<void>((r) => dev.once('close', () => r()));
    dev.publish(topic, payload(LARGEST_REMAINING), { qos: 0 });
    // Packets of one connection are read in order: this PUBACK says the largest allowed packet got through.
    await dev.publishAsync(deviceTopic(who.id, 'telemetry'), JSON.stringify({ ...exampleTelemetry(), ts: Date.now() }), { qos: 1 });
    expect(dev.connected).toBe(true);
    dev.publish(topic, payload(LARGEST_REMAINING + 1), { qos: 0 });
    await cut;
    await waitFor(() => broker.log().includes(`Client ${who.id} disconnected due to oversize packet`), LONG, 50);
    // Only that connection is lost: the account connects again.
    const fine = await device(who);
    clients.push(fine);
    const qos2Cut = new Promise<void>((r) => fine.once('close', () => r()));
    fine.publish(deviceTopic(who.id, 'event'), '{}', { qos: 2 });
    await qos2Cut;
    await waitFor(() => broker.log().includes(`Too high QoS in PUBLISH from ${who.id}`), LONG, 50);
  }, 60_000);
});
