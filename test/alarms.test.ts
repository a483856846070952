import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';
import { rawDevice } from './helpers/device.ts';
import type { Telemetry } from '../schemas/device-protocol/telemetry.ts';
import { batteryHoursLeft, seenAt } from '../server/src/alarms/advice.ts';
import { join } from 'node:path';
import { createDb } from '../server/src/db/client.ts';
import { systemActor } from '../server/src/shared/actor.ts';
import { exampleTelemetry } from './helpers/device.ts';
import { fakeClock, servicesOn, testDir } from './helpers/services.ts';

/** Server time runs ahead of the wall clock by `skew`, so a battery can discharge for twenty minutes in a second. */
const clock = { skew: 0, now: () => Date.now() + clock.skew };
let srv: TestServer;
let a: { id: string; secret: string }[];
let b: { id: string; secret: string }[];
type Api = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>;
let tech: Api;
let viewer: Api;
let otherTech: Api;

const healthy = (t: Telemetry) => {
  t.outputs = t.outputs.map((o) => ({ ...o, state: 'ok' as const }));
  t.mains = { present: true, voltageV: 226 };
  t.backup = { active: false, batteryV: 13.3, batteryPct: 98 };
  t.relayTripped = false;
  t.amp.temperatureC = 40;
};
const login = async (username: string, password: string): Promise<Api> => {
  const r = await srv.api('POST', '/api/auth/login', { username, password }, '');
  expect(r.status).toBe(200);
  return (method, url, body) => srv.api(method, url, body, r.body.token);
};
const alarmsOf = async (clusterId: string, q = '') => (await srv.api('GET', `/api/alarms?clusterId=${clusterId}${q}`)).body as any[];

beforeAll(async () => {
  // Presence by last will and disconnect only: the heartbeat sweep would see the skewed clock as silence.
  srv = await startServer({ LOA_HEARTBEAT_TIMEOUT_S: '86400' }, { clock });
  a = await provision(srv, 5, 'xa-alarm-a');
  b = await provision(srv, 2, 'xa-alarm-b');
  for (const [username, role, area, displayName] of [['kt-an', 'technician', 'xa-alarm-a', 'Nguyễn Văn An'], ['xem-a', 'viewer', 'xa-alarm-a', 'Người Xem'], ['kt-binh', 'technician', 'xa-alarm-b', 'Trần Bình']]) {
    expect((await srv.api('POST', '/api/users', { username, password: 'mat-khau-dai-du-1', role, areaIds: [area], displayName })).status).toBe(201);
  }
  tech = await login('kt-an', 'mat-khau-dai-du-1');
  viewer = await login('xem-a', 'mat-khau-dai-du-1');
  otherTech = await login('kt-binh', 'mat-khau-dai-du-1');
});
afterAll(() => srv?.close());

describe('alarms from faults', () => {
  it('raises one alarm per fault, since the device time of the report that first showed it', async () => {
    const d = await rawDevice(srv.mqttUrl, a[0]);
    await d.telemetry(healthy);
    let ts = 0;
    await d.telemetry((t) => {
      healthy(t);
      t.mains = { present: false, voltageV: null };
      t.backup = { active: true, batteryV: 12.6, batteryPct: 80 };
      t.outputs[1].state = 'open';
      t.clockOffsetMs = -2000;
      ts = t.ts;
    });
    const list = await waitFor(async () => ((await alarmsOf(a[0].id, '&active=true')).length === 2 ? alarmsOf(a[0].id, '&active=true') : null));
    const byType = Object.fromEntries(list.map((x) => [x.type, x]));
    expect(Object.keys(byType).sort()).toEqual(['mains-lost', 'output-1-open']);
    expect(byType['mains-lost']).toMatchObject({ clusterId: a[0].id, clusterName: 'Cụm xa-alarm-a 1', areaId: 'xa-alarm-a', severity: 'minor', active: true, count: 1, clearedAt: null, ackedAt: null, ackedByName: null, batteryHours: null });
    expect(byType['output-1-open']).toMatchObject({ severity: 'major', outputLabel: 'Loa 2' });
    expect(byType['mains-lost'].outputLabel).toBeNull();
    // The device's clock was 2 s ahead of the server's: the since-time is in server time.
    expect(Date.parse(byType['mains-lost'].raisedAt)).toBe(ts - 2000);
    expect(byType['mains-lost'].raisedAt).toBe(byType['mains-lost'].lastAt);
    await d.end();
  });

  it('keeps one alarm per (cluster, type): a fault that returns before anyone acknowledged it counts on the same alarm', async () => {
    const d = await rawDevice(srv.mqttUrl, a[1]);
    const open = (t: Telemetry) => (healthy(t), (t.outputs[0].state = 'short'));
    await d.telemetry(open);
    const first = await waitFor(async () => (await alarmsOf(a[1].id)).find((x) => x.type === 'output-0-short'));
    await d.telemetry(open); // the same fault reported again is not a new occurrence
    await d.telemetry(healthy);
    const cleared = await waitFor(async () => (await alarmsOf(a[1].id)).find((x) => x.id === first.id && !x.active));
    expect(Date.parse(cleared.clearedAt)).toBeGreaterThanOrEqual(Date.parse(first.raisedAt));
    expect(await alarmsOf(a[1].id, '&active=true')).toEqual([]);
    await d.telemetry(open);
    const again = await waitFor(async () => (await alarmsOf(a[1].id)).find((x) => x.active));
    expect(again).toMatchObject({ id: first.id, count: 2, clearedAt: null, raisedAt: first.raisedAt });
    expect(Date.parse(again.lastAt)).toBeGreaterThan(Date.parse(first.lastAt));
    expect((await alarmsOf(a[1].id)).length).toBe(1);
    const rows = srv.app.loa.db.sqlite!.prepare("select count(*) n from alarms where cluster_id = ? and type = 'output-0-short'").get(a[1].id) as { n: number };
    expect(rows.n).toBe(1);

    // Acknowledged and cleared, it is closed: the next occurrence is a new alarm.
    expect((await tech('POST', `/api/alarms/${first.id}/ack`, { note: 'Thay dây loa' })).status).toBe(200);
    await d.telemetry(healthy);
    await waitFor(async () => (await alarmsOf(a[1].id, '&active=true')).length === 0);
    await d.telemetry(open);
    const next = await waitFor(async () => (await alarmsOf(a[1].id, '&active=true'))[0]);
    expect(next.id).not.toBe(first.id);
    expect(next).toMatchObject({ count: 1, ackedAt: null });
    expect((await alarmsOf(a[1].id, '&acknowledged=true')).map((x) => x.id)).toEqual([first.id]);
    await d.end();
  });

  it('raises offline when the last will arrives and clears it when the cluster is back', async () => {
    const d = await rawDevice(srv.mqttUrl, a[2]);
    await d.online();
    await d.telemetry(healthy);
    await waitFor(() => srv.app.loa.services.health.peek(a[2].id)?.online);
    d.kill();
    const off = await waitFor(async () => (await alarmsOf(a[2].id, '&active=true')).find((x) => x.type === 'offline'));
    expect(off.severity).toBe('critical');
    const d2 = await rawDevice(srv.mqttUrl, a[2]);
    await d2.online();
    await waitFor(async () => (await alarmsOf(a[2].id)).find((x) => x.id === off.id && !x.active));
    await d2.end();
  });

  it('streams alarm changes to consoles whose areas hold the cluster', async () => {
    const read = async (token: string) => {
      const ctrl = new AbortController();
      const res = await fetch(`${srv.httpUrl}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
      const state = { text: '', stop: () => ctrl.abort() };
      void (async () => {
        const reader = res.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          state.text += new TextDecoder().decode(value);
        }
      })().catch(() => undefined);
      return state;
    };
    const mine = await read(srv.token);
    const login2 = await srv.api('POST', '/api/auth/login', { username: 'kt-binh', password: 'mat-khau-dai-du-1' }, '');
    const theirs = await read(login2.body.token);
    await waitFor(() => mine.text.includes('event: hello') && theirs.text.includes('event: hello'));
    const d = await rawDevice(srv.mqttUrl, a[3]);
    await d.telemetry((t) => (healthy(t), (t.relayTripped = true)));
    await waitFor(() => mine.text.includes(`"clusterId":"${a[3].id}","areaId":"xa-alarm-a","type":"relay-tripped","change":"raised"`));
    expect(mine.text).toContain('event: alarm');
    const [alarm] = await alarmsOf(a[3].id, '&active=true');
    // An empty body is an acknowledgement without a note.
    expect(await srv.api('POST', `/api/alarms/${alarm.id}/ack`, {})).toMatchObject({ status: 200, body: { ackNote: null, ackedByName: 'admin' } });
    await waitFor(() => mine.text.includes(`"alarmId":"${alarm.id}","clusterId":"${a[3].id}","areaId":"xa-alarm-a","type":"relay-tripped","change":"acknowledged"`));
    // Another commune's technician is told nothing about it.
    expect(theirs.text).not.toContain(a[3].id);
    mine.stop();
    theirs.stop();
    await d.end();
  });
});

describe('acknowledging', () => {
  let alarmId = '';
  beforeAll(async () => {
    const d = await rawDevice(srv.mqttUrl, a[4]);
    await d.telemetry((t) => (healthy(t), (t.amp.temperatureC = 82)));
    alarmId = (await waitFor(async () => (await alarmsOf(a[4].id, '&active=true')).find((x) => x.type === 'overheat'))).id;
    await d.end();
    const theirs = await rawDevice(srv.mqttUrl, b[1]);
    await theirs.telemetry((t) => (healthy(t), (t.relayTripped = true)));
    await waitFor(async () => (await alarmsOf(b[1].id, '&active=true')).length);
    await theirs.end();
  });

  it('refuses a bad note with 400 naming the field', async () => {
    const long = await tech('POST', `/api/alarms/${alarmId}/ack`, { note: 'x'.repeat(501) });
    expect(long.status).toBe(400);
    expect(long.body.field).toBe('body/note');
    const obj = await tech('POST', `/api/alarms/${alarmId}/ack`, { note: { text: 'hi' } });
    expect(obj.status).toBe(400);
    expect(obj.body.field).toBe('body/note');
    expect((await alarmsOf(a[4].id)).find((x) => x.id === alarmId).ackedAt).toBeNull();
  });

  it('refuses people who may only read (403) and those outside the area (404)', async () => {
    expect((await viewer('GET', `/api/alarms?clusterId=${a[4].id}`)).status).toBe(200);
    const v = await viewer('POST', `/api/alarms/${alarmId}/ack`, { note: 'đã xem' });
    expect(v.status).toBe(403);
    const o = await otherTech('POST', `/api/alarms/${alarmId}/ack`, { note: 'không phải xã tôi' });
    expect(o.status).toBe(404);
    expect(o.body.field).toBe('params/id');
    expect((await otherTech('GET', `/api/alarms/${alarmId}`)).status).toBe(404);
    const q = await otherTech('GET', `/api/alarms?clusterId=${a[4].id}`);
    expect(q).toMatchObject({ status: 404, body: { field: 'querystring/clusterId' } });
    expect(await otherTech('GET', '/api/alarms?areaId=xa-alarm-a')).toMatchObject({ status: 404, body: { field: 'querystring/areaId' } });
    // Unfiltered, each sees only their own area's alarms.
    const theirs = (await otherTech('GET', '/api/alarms')).body as any[];
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((x) => x.areaId === 'xa-alarm-b')).toBe(true);
    const mine = (await tech('GET', '/api/alarms')).body as any[];
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((x) => x.areaId === 'xa-alarm-a')).toBe(true);
    // An area filter takes the areas beneath it.
    const province = (await srv.api('GET', '/api/alarms?areaId=test-province')).body as any[];
    expect(new Set(province.map((x) => x.areaId))).toEqual(new Set(['xa-alarm-a', 'xa-alarm-b']));
  });

  it('answers junk with 4xx, never 5xx', async () => {
    for (const q of ['active=maybe', 'limit=0', 'limit=1e309', 'offset=-1', 'areaId=../x', 'clusterId=', 'acknowledged=2', 'areaId=nowhere-at-all']) {
      const r = await srv.api('GET', '/api/alarms?' + q);
      expect(r.status, q).toBeGreaterThanOrEqual(400);
      expect(r.status, q).toBeLessThan(500);
    }
    for (const body of [null, [], 'note', { note: ['a', 'b'] }, { note: 'ok', extra: 1 }]) {
      const r = await srv.app.inject({ method: 'POST', url: `/api/alarms/${alarmId}/ack`, headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await srv.api('POST', '/api/alarms/%00/ack', {})).status).toBe(400);
  });

  it('records who acknowledged, when and the note, once', async () => {
    const before = clock.now();
    const r = await tech('POST', `/api/alarms/${alarmId}/ack`, { note: '  Quạt tản nhiệt hỏng, chiều nay thay  ' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: alarmId, active: true, ackNote: 'Quạt tản nhiệt hỏng, chiều nay thay', ackedByName: 'Nguyễn Văn An' });
    expect(r.body.ackedBy).toMatch(/\S/);
    expect(Date.parse(r.body.ackedAt)).toBeGreaterThanOrEqual(before - 1);
    const again = await srv.api('POST', `/api/alarms/${alarmId}/ack`, { note: 'tôi cũng thấy' });
    expect(again.status).toBe(409);
    expect(again.body.message).toContain('Nguyễn Văn An');
    expect((await alarmsOf(a[4].id)).find((x) => x.id === alarmId).ackNote).toBe('Quạt tản nhiệt hỏng, chiều nay thay');
    const audit = srv.app.loa.db.sqlite!.prepare("select actor_name from audit_log where action = 'alarm.ack' and target_id = ?").get(alarmId) as { actor_name: string };
    expect(audit.actor_name).toBe('kt-an');
    expect((await srv.api('POST', '/api/alarms/al-doesnotexist/ack', {})).status).toBe(404);
  });
});

describe('battery estimate', () => {
  it('says how long the battery lasts at the discharge rate measured over the current outage', async () => {
    const d = await rawDevice(srv.mqttUrl, b[0]);
    await d.telemetry(healthy);
    // 0.5 % every 100 s of server time = 18 %/h; from 84 % that is 4.7 h.
    for (let i = 0; i <= 12; i++) {
      const pct = 90 - i * 0.5;
      await d.telemetry((t) => {
        healthy(t);
        t.ts = clock.now();
        t.clockOffsetMs = 0;
        t.mains = { present: false, voltageV: null };
        t.backup = { active: true, batteryV: 12.4, batteryPct: pct };
      });
      await waitFor(() => srv.app.loa.services.health.peek(b[0].id)?.telemetry?.backup.batteryPct === pct);
      clock.skew += 100_000;
    }
    const alarm = await waitFor(async () => (await alarmsOf(b[0].id, '&active=true')).find((x) => x.type === 'mains-lost' && x.batteryHours !== null));
    expect(alarm.batteryHours).toBeCloseTo(84 / 18, 1);
    await d.end();
  });

  it('gives no figure when the outage is too short or the battery is not falling', () => {
    const at = (min: number, pct: number, onBattery = true) => ({ at: min * 60_000, pct, onBattery });
    expect(batteryHoursLeft([at(0, 90), at(2, 89), at(4, 88)])).toBeNull();
    expect(batteryHoursLeft([at(0, 90), at(10, 90), at(20, 90)])).toBeNull();
    expect(batteryHoursLeft([at(0, 50, false), at(30, 40), at(31, 39.5), at(32, 39)])).toBeNull();
    expect(batteryHoursLeft([at(0, 60), at(10, 55), at(20, 50)])).toBeCloseTo(50 / 30, 1);
  });

  it('takes the since-time from the device clock only once it has been synced', () => {
    const t = { ts: 1_000_000, clockOffsetMs: null } as unknown as Telemetry;
    expect(seenAt(t, 2_000_000)).toBe(2_000_000);
    expect(seenAt({ ...t, clockOffsetMs: 500 }, 2_000_000)).toBe(1_000_500);
    expect(seenAt({ ...t, clockOffsetMs: 5_000_000 }, 2_000_000)).toBe(2_000_000);
  });
});

describe('after a restart', () => {
  it('catches up with the faults the last run stored: raises what is missing, clears what is gone', async () => {
    const dir = testDir('loa-alarms-');
    const file = join(dir, 'loa.sqlite');
    const clock = fakeClock();
    const publisher = { publish: async () => undefined };
    const db1 = createDb(file);
    const s1 = await servicesOn(db1, dir, clock, publisher);
    await s1.areas.create({ id: 'xa-restart', name: 'Xã Khởi Động', kind: 'commune' });
    const [{ clusterId }] = await s1.clusters.create([{ name: 'Cụm R', areaId: 'xa-restart', serial: 'R-1', outputs: [{ index: 0, label: 'Loa 1' }] }], systemActor());
    const t = exampleTelemetry();
    healthy(t);
    t.outputs = [{ index: 0, state: 'ok' }];
    t.amp.temperatureC = 80;
    t.ts = clock.now();
    s1.telemetry.ingest(clusterId, t);
    await s1.telemetry.flush(undefined, true);
    // The crash window: the state was written but the alarm was lost, and an old alarm was never cleared.
    db1.sqlite.prepare('delete from alarms').run();
    db1.sqlite.prepare("insert into alarms (id, cluster_id, type, severity, raised_at, last_at, count) values ('al-stale', ?, 'relay-tripped', 'major', 1, 1, 1)").run(clusterId);
    db1.sqlite.close();

    clock.t += 60_000;
    const db2 = createDb(file);
    const s2 = await servicesOn(db2, dir, clock, publisher);
    const list = await s2.alarms.list({}, systemActor());
    expect(list.find((a) => a.type === 'overheat')).toMatchObject({ active: true, clusterName: 'Cụm R' });
    expect(list.find((a) => a.id === 'al-stale')).toMatchObject({ active: false });
    db2.sqlite.close();
  });
});

describe('offline after a restart', () => {
  it('raises offline for a cluster that was connected when the server stopped and never came back', async () => {
    const dir = testDir('loa-alarms-off-');
    const file = join(dir, 'loa.sqlite');
    const clock = fakeClock();
    const publisher = { publish: async () => undefined };
    const db1 = createDb(file);
    const s1 = await servicesOn(db1, dir, clock, publisher);
    await s1.areas.create({ id: 'xa-off', name: 'Xã Tắt', kind: 'commune' });
    const made = await s1.clusters.create(
      ['A', 'B', 'C'].map((n) => ({ name: `Cụm ${n}`, areaId: 'xa-off', serial: `OFF-${n}`, outputs: [{ index: 0, label: 'Loa 1' }] })),
      systemActor(),
    );
    const [seen, back] = made.map((c) => c.clusterId); // the third is provisioned but never heard from
    s1.presence.seen(seen);
    s1.presence.seen(back);
    await s1.telemetry.flush(undefined, true);
    db1.sqlite.close();

    clock.t += 60_000;
    const db2 = createDb(file);
    const s2 = await servicesOn(db2, dir, clock, publisher);
    s2.presence.seen(back); // reconnects after the restart
    const offline = async () => (await s2.alarms.list({ active: true }, systemActor())).filter((a) => a.type === 'offline').map((a) => a.clusterId);
    // Within the grace nothing is raised: the fleet is still reconnecting after the restart.
    expect(await s2.alarms.sweepOffline(120_000)).toBe(0);
    clock.t += 120_000;
    expect(await s2.alarms.sweepOffline(120_000)).toBe(1);
    expect(await offline()).toEqual([seen]);
    expect((await s2.alarms.list({ active: true }, systemActor())).find((a) => a.type === 'offline')!.raisedAt).toBe(new Date(clock.t - 180_000).toISOString());
    // Once raised it is not raised again.
    expect(await s2.alarms.sweepOffline(120_000)).toBe(0);
    db2.sqlite.close();
  });
});
