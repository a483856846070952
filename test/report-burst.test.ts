import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { count as sqlCount } from 'drizzle-orm';
import { connectRaw, provision, startServer, type TestServer } from './helpers/server.ts';

/**
 * A burst of proof-of-play reports from many clusters at once (issue 8 §1): the server stays up, every report the
 * broker acknowledged is already in the airing log when its PUBACK arrives, and a failing handler is contained.
 */
let srv: TestServer;
let fleet: { id: string; secret: string }[];
const clients: MqttClient[] = [];
const CLUSTERS = 40;
const PER_CLUSTER = 500; // 20,000 reports

const report = (i: number, clusterId: string) =>
  JSON.stringify({ id: `r-${clusterId}-${i}`, itemId: 'it-1', broadcastId: 'b-burst', seq: 0, state: 'received', ts: Date.now(), serverTs: Date.now() });
const publish = (c: MqttClient, topic: string, body: string) =>
  new Promise<void>((resolve, reject) => c.publish(topic, body, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
/** Reports stored, read past the services (either engine). */
const count = async () => {
  const db = srv.app.loa.db;
  const [r] = await db.run(undefined, (q) => q.select({ n: sqlCount() }).from(db.t.airingReports));
  return r.n;
};
const metric = async (name: string) => {
  const r = await srv.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${srv.token}` } });
  return r.body
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
};

beforeAll(async () => {
  srv = await startServer({ LOA_MQTT_PUBLISH_RATE: '10000' });
  fleet = await provision(srv, CLUSTERS, 'xa-burst');
  for (const f of fleet) clients.push(await connectRaw(srv.mqttUrl, { clientId: f.id, username: f.id, password: f.secret, keepalive: 30 }));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await srv?.close();
});

describe('a burst of airing reports', () => {
  it('acknowledges 20,000 QoS 1 reports only once each is in the airing log, and stays up', { timeout: 180_000 }, async () => {
    const seenAtAck: number[] = [];
    await Promise.all(
      clients.map(async (c, k) => {
        const id = fleet[k].id;
        await Promise.all(
          Array.from({ length: PER_CLUSTER }, (_, i) =>
            publish(c, `loa/v1/dev/${id}/airing`, report(i, id)).then(async () => {
              if (i === PER_CLUSTER - 1) seenAtAck.push(await count());
            }),
          ),
        );
      }),
    );
    expect(await count()).toBe(CLUSTERS * PER_CLUSTER);
    // durability before the acknowledgement: when a cluster's last PUBACK arrived, that report was stored already
    expect(Math.min(...seenAtAck)).toBeGreaterThanOrEqual(PER_CLUSTER);
    expect(await metric('loa_mqtt_messages_in_total{channel="airing"}')).toBe(CLUSTERS * PER_CLUSTER);
    const health = await srv.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(clients.every((c) => c.connected)).toBe(true);
  });

  it('counts and contains a handler that throws: the device is acknowledged, the server keeps serving', async () => {
    const airings = srv.app.loa.services.airings;
    // The device path's entry (reports are committed in batches behind it).
    const original = airings.submit.bind(airings);
    airings.submit = ((clusterId: string, ...rest: any[]) => {
      if (clusterId === fleet[0].id) throw new Error('injected fault');
      return (original as any)(clusterId, ...rest);
    }) as typeof airings.submit;
    try {
      const before = await metric('loa_mqtt_handler_errors_total{channel="airing"}');
      await publish(clients[0], `loa/v1/dev/${fleet[0].id}/airing`, report(99_999, fleet[0].id));
      await publish(clients[1], `loa/v1/dev/${fleet[1].id}/airing`, report(99_999, fleet[1].id));
      expect(await metric('loa_mqtt_handler_errors_total{channel="airing"}')).toBe(before + 1);
      expect(await count()).toBe(CLUSTERS * PER_CLUSTER + 1);
      expect(clients[0].connected && clients[1].connected).toBe(true);
    } finally {
      airings.submit = original;
    }
  });
});
