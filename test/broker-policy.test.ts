import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

let srv: TestServer;
let a: { id: string; secret: string };
let b: { id: string; secret: string };
let other: { id: string; secret: string };
const seen: string[] = [];

beforeAll(async () => {
  srv = await startServer();
  [a, b] = await provision(srv, 2, 'commune-a');
  [other] = await provision(srv, 1, 'commune-b');
  srv.app.loa.broker.on('publish', (packet, client) => {
    if (client) seen.push(`${client.id} ${packet.topic}`);
  });
});
afterAll(() => srv?.close());

const connectAs = (who: { id: string; secret: string }) => connectRaw(srv.mqttUrl, { clientId: who.id, username: who.id, password: who.secret });

function publishOutcome(c: MqttClient, topic: string, payload: string, retain = false): Promise<'delivered' | 'disconnected'> {
  return new Promise((resolve) => {
    c.once('close', () => resolve('disconnected'));
    c.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err) return resolve('disconnected');
      // A refused QoS 1 publish is never acknowledged: aedes closes the connection instead.
      setTimeout(() => resolve(seen.includes(`${c.options.clientId} ${topic}`) ? 'delivered' : 'disconnected'), 50);
    });
  });
}

const subackCode = (err: unknown) => (err as { code?: number }).code ?? (err as { packet?: { granted?: number[] } }).packet?.granted?.[0];

function subscribeOutcome(c: MqttClient, topic: string): Promise<number> {
  // mqtt.js reports a SUBACK failure (0x80) as an error carrying the code.
  return new Promise((resolve, reject) =>
    c.subscribe(topic, { qos: 1 }, (err, granted) => (err ? (subackCode(err) === 128 ? resolve(128) : reject(err)) : resolve(granted![0].qos))),
  );
}

describe('authentication', () => {
  it('refuses an anonymous connect', async () => {
    await expect(connectRaw(srv.mqttUrl, { clientId: a.id })).rejects.toThrow(/Not authorized|Bad username/i);
  });
  it('refuses a wrong secret', async () => {
    await expect(connectRaw(srv.mqttUrl, { clientId: a.id, username: a.id, password: b.secret })).rejects.toThrow(/Bad username or password/);
  });
  it('refuses an unknown cluster', async () => {
    await expect(connectRaw(srv.mqttUrl, { clientId: 'nobody-here', username: 'nobody-here', password: a.secret })).rejects.toThrow(/Bad username or password/);
  });
  it('refuses a client id that is not the username', async () => {
    await expect(connectRaw(srv.mqttUrl, { clientId: b.id, username: a.id, password: a.secret })).rejects.toThrow(/Identifier rejected/);
  });
  it('accepts the right secret', async () => {
    const c = await connectAs(a);
    expect(c.connected).toBe(true);
    c.end(true);
  });
});

describe('publish ACL', () => {
  const cases: [string, (x: string, y: string) => string, boolean, 'delivered' | 'disconnected'][] = [
    ['own telemetry', (x) => `loa/v1/dev/${x}/telemetry`, false, 'delivered'],
    ['own event', (x) => `loa/v1/dev/${x}/event`, false, 'delivered'],
    ['own reply', (x) => `loa/v1/dev/${x}/reply`, false, 'delivered'],
    ['own time request', (x) => `loa/v1/dev/${x}/time/req`, false, 'delivered'],
    ['own birth', (x) => `loa/v1/dev/${x}/birth`, false, 'delivered'],
    ['own status, retained', (x) => `loa/v1/dev/${x}/status`, true, 'delivered'],
    ["another cluster's telemetry", (_x, y) => `loa/v1/dev/${y}/telemetry`, false, 'disconnected'],
    ["another cluster's status", (_x, y) => `loa/v1/dev/${y}/status`, false, 'disconnected'],
    ['own command topic (server → device)', (x) => `loa/v1/dev/${x}/cmd`, false, 'disconnected'],
    ['own config topic (server → device)', (x) => `loa/v1/dev/${x}/config`, false, 'disconnected'],
    ['a group command topic', () => `loa/v1/grp/a-commune-a/cmd`, false, 'disconnected'],
    ['own telemetry, retained', (x) => `loa/v1/dev/${x}/telemetry`, true, 'disconnected'],
    ['a topic outside the grammar', () => `foo/bar`, false, 'disconnected'],
    ['$SYS', () => `$SYS/broker/x`, false, 'disconnected'],
  ];
  for (const [name, topic, retain, expected] of cases) {
    it(`${expected === 'delivered' ? 'allows' : 'refuses'} ${name}`, async () => {
      const c = await connectAs(a);
      const t = topic(a.id, b.id);
      const payload = t.endsWith('/status') ? '{"state":"online"}' : '{}';
      expect(await publishOutcome(c, t, payload, retain)).toBe(expected);
      c.end(true);
    });
  }
});

describe('subscribe ACL', () => {
  let c: MqttClient;
  beforeAll(async () => {
    c = await connectAs(a);
  });
  afterAll(() => c.end(true));
  const cases: [string, () => string, number][] = [
    ['own commands', () => `loa/v1/dev/${a.id}/cmd`, 1],
    ['own config', () => `loa/v1/dev/${a.id}/config`, 1],
    ['own time responses', () => `loa/v1/dev/${a.id}/time/res`, 1],
    ['its commune group', () => `loa/v1/grp/a-commune-a/cmd`, 1],
    ['its province group', () => `loa/v1/grp/a-test-province/cmd`, 1],
    ["another commune's group", () => `loa/v1/grp/a-commune-b/cmd`, 128],
    ["another cluster's commands", () => `loa/v1/dev/${b.id}/cmd`, 128],
    ['its own up channel', () => `loa/v1/dev/${a.id}/telemetry`, 128],
    ['a + wildcard over devices', () => `loa/v1/dev/+/cmd`, 128],
    ['a + wildcard over own channels', () => `loa/v1/dev/${a.id}/+`, 128],
    ['# under the root', () => `loa/v1/#`, 128],
    ['#', () => `#`, 128],
    ['$SYS', () => `$SYS/#`, 128],
  ];
  for (const [name, topic, granted] of cases) {
    it(`${granted === 128 ? 'refuses' : 'grants'} ${name}`, async () => {
      expect(await subscribeOutcome(c, topic())).toBe(granted);
    });
  }
  it('delivers a group publish only to members of the group', async () => {
    const inA: string[] = [];
    const o = await connectAs(other);
    await subscribeOutcome(o, 'loa/v1/grp/a-commune-b/cmd');
    o.on('message', (t) => inA.push(`other ${t}`));
    c.on('message', (t) => inA.push(`a ${t}`));
    await new Promise<void>((done) => srv.app.loa.broker.publish({ cmd: 'publish', topic: 'loa/v1/grp/a-commune-a/cmd', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false }, () => done()));
    await waitFor(() => inA.includes('a loa/v1/grp/a-commune-a/cmd'));
    expect(inA.filter((x) => x.startsWith('other'))).toEqual([]);
    o.end(true);
  });
});

describe('limits', () => {
  it('cuts a connection that sends a packet larger than the limit', async () => {
    const c = await connectAs(b);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(`loa/v1/dev/${b.id}/event`, Buffer.alloc(70_000, 'x'), { qos: 0 });
    await closed;
    const metrics = await srv.api('GET', '/metrics');
    expect(metrics.body).toMatch(/loa_mqtt_messages_rejected_total\{reason="packet_too_large"\} [1-9]/);
  });

  it('caps subscriptions per client', async () => {
    const s2 = await startServer({ LOA_MQTT_MAX_SUBSCRIPTIONS: '4' });
    try {
      const [x] = await provision(s2, 1);
      const c = await connectRaw(s2.mqttUrl, { clientId: x.id, username: x.id, password: x.secret });
      const topics = ['cmd', 'config', 'time/res'].map((ch) => `loa/v1/dev/${x.id}/${ch}`);
      for (const t of topics) expect(await subscribeOutcome(c, t)).toBe(1);
      expect(await subscribeOutcome(c, 'loa/v1/grp/a-test-commune/cmd')).toBe(1);
      expect(await subscribeOutcome(c, 'loa/v1/grp/a-test-province/cmd')).toBe(128);
      c.end(true);
    } finally {
      await s2.close();
    }
  });

  it('throttles a flooding client and cuts it off when the backlog passes 5 s', async () => {
    const s2 = await startServer({ LOA_MQTT_PUBLISH_RATE: '2' });
    try {
      const [x] = await provision(s2, 1);
      const c = await connectRaw(s2.mqttUrl, { clientId: x.id, username: x.id, password: x.secret });
      const closed = new Promise<void>((r) => c.once('close', () => r()));
      // burst allowance is 10 (5 s × 2/s); 10 more is 5 s of backlog, the next one crosses it.
      for (let i = 0; i < 25; i++) c.publish(`loa/v1/dev/${x.id}/event`, '{}', { qos: 0 });
      await closed;
      const m = await s2.api('GET', '/metrics');
      expect(m.body).toMatch(/loa_mqtt_messages_rejected_total\{reason="rate_limited"\} [1-9]/);
    } finally {
      await s2.close();
    }
  });
});

describe('credentials', () => {
  it('kicks a revoked device at once and refuses its reconnect', async () => {
    const [x] = await provision(srv, 1, 'commune-a');
    const c = await connectAs(x);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const res = await srv.api('POST', `/api/clusters/${x.id}/credential/revoke`);
    expect(res.status).toBe(204);
    await closed;
    await expect(connectAs(x)).rejects.toThrow(/Bad username or password/);
    const detail = await srv.api('GET', `/api/clusters/${x.id}`);
    expect(detail.body.credential).toBe('revoked');
  });

  it('rotating a secret disconnects the old session; only the new secret works', async () => {
    const [x] = await provision(srv, 1, 'commune-a');
    const c = await connectAs(x);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const res = await srv.api('POST', `/api/clusters/${x.id}/credential/rotate`);
    expect(res.status).toBe(200);
    expect(res.body.secret).not.toBe(x.secret);
    await closed;
    await expect(connectAs(x)).rejects.toThrow(/Bad username or password/);
    const fresh = await connectAs({ id: x.id, secret: res.body.secret });
    expect(fresh.connected).toBe(true);
    fresh.end(true);
  });

  it('stores only a hash of the secret', async () => {
    const rows = srv.app.loa.db.sqlite!.prepare('select secret_hash from device_credentials where cluster_id = ?').all(a.id) as { secret_hash: string }[];
    expect(rows[0].secret_hash).toMatch(/^[a-f0-9]{64}$/);
    expect(rows[0].secret_hash).not.toContain(a.secret);
    const detail = await srv.api('GET', `/api/clusters/${a.id}`);
    expect(JSON.stringify(detail.body)).not.toContain(a.secret);
  });
});
