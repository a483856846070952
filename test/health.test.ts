import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';
import { rawDevice } from './helpers/device.ts';

let srv: TestServer;
let fleet: { id: string; secret: string }[];
const cluster = async (id: string) => (await srv.api('GET', `/api/clusters/${id}`)).body;

beforeAll(async () => {
  srv = await startServer({ LOA_HEARTBEAT_TIMEOUT_S: '2' });
  fleet = await provision(srv, 6, 'xa-health');
});
afterAll(() => srv?.close());

describe('presence', () => {
  it('marks a cluster online on connect and offline by its last will when the link dies', async () => {
    const d = await rawDevice(srv.mqttUrl, fleet[0]);
    await d.online();
    await waitFor(async () => (await cluster(fleet[0].id)).health.online === true);
    const before = await cluster(fleet[0].id);
    expect(before.health.lastSeen).not.toBeNull();
    d.kill();
    await waitFor(async () => (await cluster(fleet[0].id)).health.online === false);
  });

  it('marks a silent cluster offline after the heartbeat timeout, and online again when it speaks', async () => {
    // keep alive 0 is refused (§2.2); an hour-long one leaves the broker's own timeout far out of the way.
    const d = await rawDevice(srv.mqttUrl, fleet[1], { keepalive: 3600 });
    await d.online(); // as a device does on connect (§2.3): an external broker's sessions are known by it
    await d.telemetry();
    await waitFor(async () => (await cluster(fleet[1].id)).health.online === true);
    // the broker does not time the session out within the test, only the server's heartbeat check can notice.
    await waitFor(async () => (await cluster(fleet[1].id)).health.online === false, 8000, 200);
    expect(srv.app.loa.link.isConnected(fleet[1].id)).toBe(true); // the session is still there
    await d.telemetry();
    await waitFor(async () => (await cluster(fleet[1].id)).health.online === true);
    await d.end();
  });

  it('streams status changes over Server-Sent Events', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${srv.httpUrl}/api/stream`, { headers: { authorization: `Bearer ${srv.token}` }, signal: ctrl.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })().catch(() => undefined);
    const d = await rawDevice(srv.mqttUrl, fleet[2]);
    await d.online();
    await waitFor(() => text.includes(`"clusterId":"${fleet[2].id}","areaId":"xa-health","online":true`));
    await d.end();
    await waitFor(() => text.includes(`"clusterId":"${fleet[2].id}","areaId":"xa-health","online":false`));
    expect(text).toContain('event: status');
    ctrl.abort();
    await read;
  });

  it('refuses the stream without authentication', async () => {
    const res = await fetch(`${srv.httpUrl}/api/stream`);
    expect(res.status).toBe(401);
  });
});

describe('telemetry', () => {
  it('keeps the latest report, derives faults and persists the time series', async () => {
    const d = await rawDevice(srv.mqttUrl, fleet[3]);
    await d.online();
    await d.telemetry((t) => {
      t.mains = { present: false, voltageV: null };
      t.backup = { active: true, batteryV: 11.9, batteryPct: 15 };
      t.outputs = [{ index: 0, state: 'ok' }, { index: 1, state: 'short' }, { index: 2, state: 'open' }, { index: 3, state: 'off' }];
      t.amp.temperatureC = 81;
      t.relayTripped = true;
    });
    const c = await waitFor(async () => {
      const x = await cluster(fleet[3].id);
      return x.telemetry ? x : null;
    });
    expect(c.health.faults.sort()).toEqual(['battery-low', 'mains-lost', 'output-1-short', 'output-2-open', 'overheat', 'relay-tripped'].sort());
    expect(c.health.onBattery).toBe(true);
    expect(c.telemetry.amp.temperatureC).toBe(81);

    for (let i = 0; i < 3; i++) await d.telemetry((t) => (t.amp.temperatureC = 40 + i));
    const hist = await waitFor(async () => {
      const h = await srv.api('GET', `/api/clusters/${fleet[3].id}/telemetry`);
      return h.body.points?.length >= 4 ? h.body : null;
    });
    expect(hist.points.map((p: any) => p.ampTempC)).toEqual([81, 40, 41, 42]);
    const bucketed = await srv.api('GET', `/api/clusters/${fleet[3].id}/telemetry?resolution=3600`);
    expect(bucketed.body.points.length).toBeLessThanOrEqual(2);
    expect(bucketed.body.points.reduce((n: number, p: any) => n + p.samples, 0)).toBe(4);
    // Through the query builder: this suite runs on PostgreSQL too.
    const { telemetry } = srv.app.loa.db.t;
    const [row] = await srv.app.loa.db.run(undefined, (q) => q.select({ n: count() }).from(telemetry).where(eq(telemetry.clusterId, fleet[3].id)));
    expect(row.n).toBe(4);

    const fault = await srv.api('GET', '/api/clusters?fault=true&areaId=xa-health');
    expect(fault.body.items.map((x: any) => x.id)).toContain(fleet[3].id);
    const rollup = await srv.api('GET', '/api/areas/xa-health/rollup');
    expect(rollup.body).toMatchObject({ clustersTotal: 6, speakersTotal: 24 });
    // The catalog's example telemetry reports output 1 open; fleet[1] and fleet[3] last sent it.
    expect(rollup.body.speakersWithFaults).toBe(2);
    expect(rollup.body.clustersWithFaults).toBe(2);
    await d.end();
  });

  it('rejects malformed telemetry, counts it per device and stays up', async () => {
    const d = await rawDevice(srv.mqttUrl, fleet[4]);
    await d.pub('telemetry', 'not json');
    await d.pub('telemetry', { ts: 1, mains: 'yes' });
    await d.pub('event', { id: 'e1', ts: 1, type: 'alien_landing' });
    const c = await waitFor(async () => {
      const x = await cluster(fleet[4].id);
      return x.health.malformedCount === 3 ? x : null;
    });
    expect(c.telemetry).toBeNull();
    const metrics = await srv.api('GET', '/metrics');
    expect(metrics.body).toMatch(/loa_mqtt_messages_rejected_total\{reason="malformed"\} 3/);
    // the connection is kept and later good data is accepted
    await d.telemetry();
    await waitFor(async () => (await cluster(fleet[4].id)).telemetry !== null);
    expect((await srv.api('GET', '/healthz')).status).toBe(200);
    await d.end();
  });

  it('accepts unknown fields (forward compatibility)', async () => {
    const d = await rawDevice(srv.mqttUrl, fleet[5]);
    await d.telemetry((t) => Object.assign(t, { solarPanelV: 18.2, mains: { ...t.mains, frequencyHz: 50 } }));
    const c = await waitFor(async () => {
      const x = await cluster(fleet[5].id);
      return x.telemetry ? x : null;
    });
    expect(c.health.malformedCount).toBe(0);
    await d.end();
  });

  it('stores each device event once even when redelivered', async () => {
    const d = await rawDevice(srv.mqttUrl, fleet[5]);
    const e = { id: 'ev-1', ts: Date.now() - 60_000, type: 'mains_lost', voltageV: 0 };
    await d.pub('event', e);
    await d.pub('event', e);
    await d.pub('event', { ...e, id: 'ev-2', type: 'mains_restored', voltageV: 224 });
    const events = await waitFor(async () => {
      const r = await srv.api('GET', `/api/clusters/${fleet[5].id}/events`);
      return r.body.length === 2 ? r.body : null;
    });
    expect(events.map((x: any) => x.id).sort()).toEqual(['ev-1', 'ev-2']);
    await d.end();
  });
});
