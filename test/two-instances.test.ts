import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { SimCluster } from '../firmware-sim/src/index.ts';
import { rawDevice } from './helpers/device.ts';
import { uploadTone } from './helpers/broadcast.ts';
import { childProcesses, signIn, type ChildServer } from './helpers/child-server.ts';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from './helpers/mosquitto.ts';
import { postgresAvailable, startPostgres, type PostgresServer } from './helpers/postgres.ts';
import { connectRaw, provision, waitFor, type TestServer } from './helpers/server.ts';

/**
 * Two server instances, each a process of its own, on one Mosquitto and one PostgreSQL database (issue 13): a
 * cluster's traffic reaches one of them (the shared subscription), either serves the API over the one database,
 * one of them — the holder of the leader lock — runs the periodic work, and a SIGKILLed leader is replaced.
 */
const available = mosquittoAvailable() && postgresAvailable();
if (!available) console.warn('test/two-instances.test.ts skipped: needs Debian mosquitto and postgresql');

let broker: MosquittoServer;
let postgres: PostgresServer;
let sql: pg.Client;
const procs = childProcesses('loa-two-');
let A: ChildServer;
let B: ChildServer;
let a: TestServer;
let b: TestServer;
let fleet: { id: string; secret: string }[];
const sims: SimCluster[] = [];
const LONG = 30_000;
let env: Record<string, string>;
const leads = (p: ChildServer) => p.out().includes('this instance leads');
const count = async (text: string, values: unknown[]) => Number((await sql.query(text, values)).rows[0].n);

describe.skipIf(!available)('two server instances on one Mosquitto and one PostgreSQL', () => {
  beforeAll(async () => {
    broker = await startMosquitto();
    postgres = await startPostgres();
    const url = await postgres.createDatabase('two_instances');
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
    env = { LOA_DB_URL: url, LOA_MQTT_URL: broker.url, LOA_MQTT_USERNAME: broker.adminUser, LOA_MQTT_PASSWORD: broker.adminPassword, LOA_TELEMETRY_INTERVAL_S: '5' };
    // One after the other: the first applies the migrations and creates the admin, and takes the lead.
    A = await procs.startServer(0, 0, false, { ...env, LOA_MQTT_CLIENT_ID: 'loa-a' });
    await waitFor(() => leads(A), LONG, 50);
    B = await procs.startServer(0, 0, false, { ...env, LOA_MQTT_CLIENT_ID: 'loa-b' });
    a = await signIn(A);
    b = await signIn(B);
    fleet = await provision(a, 4, 'xa-hai');
    // the last one has no simulator: the telemetry test speaks for it alone
    for (const c of fleet.slice(0, 3)) {
      // content from B, behind which A's uploads are too (one data dir, as instances share one file store)
      const s = new SimCluster({ url: broker.url, httpUrl: b.httpUrl, id: c.id, secret: c.secret, outputs: [{ index: 0, label: 'Loa 1', ratedW: 50 }] });
      sims.push(s);
      // the broker learns of a new cluster's account a moment after provisioning: the simulator retries until then
      await s.start();
    }
    await waitFor(async () => {
      const r = await b.api('GET', '/api/clusters?areaId=xa-hai');
      return r.body.items?.filter((c: { health: { online: boolean } }) => c.health.online).length === 3 || console.log(JSON.stringify(r.body).slice(0, 300));
    }, LONG, 1000);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    await procs.cleanUp();
    await sql?.end();
    await postgres?.stop();
    await broker?.stop();
  });

  it('has one leader', () => {
    expect(leads(A)).toBe(true);
    expect(leads(B)).toBe(false);
  });

  it("ingests a cluster's telemetry once, whichever instance receives each report", async () => {
    const quiet = fleet[3];
    const dev = await rawDevice(broker.url, quiet);
    const sent = 40;
    for (let i = 0; i < sent; i++) await dev.telemetry();
    await dev.end();
    const mine = `select count(*) as n from telemetry where cluster_id = $1`;
    await waitFor(async () => (await count(mine, [quiet.id])) >= sent, LONG, 100);
    await new Promise((r) => setTimeout(r, 1_500)); // both instances' next flushes: nothing more may come
    expect(await count(mine, [quiet.id])).toBe(sent);
  }, 60_000);

  it('tracks on B a broadcast made on A, with every proof of play once, and streams A\'s events to B\'s console', async () => {
    // a console on B: its event stream
    const ctrl = new AbortController();
    const res = await fetch(`${b.httpUrl}/api/stream`, { headers: { authorization: `Bearer ${b.token}` }, signal: ctrl.signal });
    const reader = res.body!.getReader();
    let text = '';
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })().catch(() => undefined);
    await waitFor(() => text.includes('event: hello'), LONG, 50);
    const tone = await uploadTone(a, 2);
    const made = await a.api('POST', '/api/broadcasts', { title: 'Thông báo hai máy', level: 'emergency', source: { contentId: tone }, targets: { clusterIds: fleet.slice(0, 3).map((c) => c.id) } });
    expect(made.status).toBe(201);
    let last: unknown;
    const seen = await waitFor(async () => {
      const r = await b.api('GET', `/api/broadcasts/${made.body.id}`);
      last = r.body;
      return r.body.delivery?.finished === 3 && r.body.state === 'done' ? r.body : null;
    }, LONG, 200).catch((err) => {
      throw new Error(`${err}: last seen on B ${JSON.stringify(last)}`);
    });
    expect(seen.delivery).toMatchObject({ targeted: 3, finished: 3, failed: 0 });
    const finished = `select count(*) as n from airing_reports where broadcast_id = $1 and state = 'finished'`;
    expect(await count(finished, [made.body.id])).toBe(3);
    // Made on A (scheduled), moved on by the leader A (airing, done): B's console heard each change once.
    const changes = [...text.matchAll(/event: broadcast\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]) as { broadcastId: string; state: string }).filter((e) => e.broadcastId === made.body.id).map((e) => e.state);
    expect(changes).toEqual(['scheduled', 'airing', 'done']);
    // Every cluster's 'finished' reached B's console once, whichever instance stored it.
    const airings = [...text.matchAll(/event: airing\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]) as { broadcastId: string; clusterId: string; state: string }).filter((e) => e.broadcastId === made.body.id && e.state === 'finished');
    expect(airings.map((e) => e.clusterId).sort()).toEqual(fleet.slice(0, 3).map((c) => c.id).sort());
    ctrl.abort();
  }, 60_000);

  it('answers a command sent through B as soon as the reply is in, whichever instance received it', async () => {
    // Each reply reaches one instance (the shared subscription); B's waiting call hears of one handled by A at once,
    // not when its wait runs out (15 s here).
    const took: number[] = [];
    for (const volume of [31, 32, 33, 34, 35, 36]) {
      const t0 = Date.now();
      const r = await b.api('POST', `/api/clusters/${fleet[1].id}/commands`, { name: 'setVolume', args: { volume }, waitS: 15 });
      took.push(Date.now() - t0);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ name: 'setVolume', state: 'ok', args: { volume } });
    }
    console.log(`two instances: commands through B answered in ${took.join(', ')} ms`);
    expect(Math.max(...took)).toBeLessThan(10_000);
  }, 120_000);

  it("moves a cluster's manifest version forward whichever instance changes it", async () => {
    const sim = sims[0];
    const tone = await uploadTone(a, 1, 550);
    const stored = async () => Number((await sql.query('select version from manifest_versions where cluster_id = $1', [fleet[0].id])).rows[0]?.version ?? 0);
    const versions: number[] = [];
    for (const [i, via] of [a, b, a, b].entries()) {
      const before = sim.manifestVersion;
      const made = await via.api('POST', '/api/broadcasts', { title: `Lịch ${i}`, level: 'normal', source: { contentId: tone }, targets: { clusterIds: [fleet[0].id] }, startAt: new Date(Date.now() + 3_600_000).toISOString() });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      await waitFor(() => sim.manifestVersion > before, LONG, 50);
      versions.push(sim.manifestVersion);
    }
    // each change, made on A or on B, a version above the last: the database numbers them, not each instance
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    expect(new Set(versions).size).toBe(4);
    expect(await stored()).toBe(versions.at(-1));
  }, 60_000);

  it('cuts a cluster revoked through A off at the broker', async () => {
    const victim = fleet[2];
    const sim = sims[2];
    await sim.stop();
    const dev = await rawDevice(broker.url, victim);
    const closed = new Promise<void>((r) => dev.client.once('close', () => r()));
    expect((await a.api('POST', `/api/clusters/${victim.id}/credential/revoke`)).status).toBe(204);
    await closed;
    await expect(connectRaw(broker.url, { clientId: victim.id, username: victim.id, password: victim.secret })).rejects.toThrow();
    dev.client.end(true);
  }, 60_000);

  it('replaces a SIGKILLed leader: B leads within seconds and runs the work, nothing doubled', async () => {
    const killedAt = Date.now();
    await procs.kill(A);
    await waitFor(() => leads(B), LONG, 50);
    const tookMs = Date.now() - killedAt;
    console.log(`two instances: B took the lead ${tookMs} ms after A was killed`);
    expect(tookMs).toBeLessThan(10_000);
    // A broadcast's progress (received → airing → done) is the leader's work: made on B, it gets there on B alone.
    const tone = await uploadTone(b, 2, 660);
    const made = await b.api('POST', '/api/broadcasts', { title: 'Sau khi máy A tắt', level: 'emergency', source: { contentId: tone }, targets: { clusterIds: [fleet[0].id, fleet[1].id] } });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    // Mosquitto keeps the dead instance's persistent session in the shared subscription and queues its share of
    // the devices' reports there (it does not hand them to B): they are not lost, they wait for A's session. A
    // restarted on its client id takes them (handled once its handlers are attached); B keeps the lead and moves
    // the broadcast on once every report is in.
    const finished = `select count(*) as n from airing_reports where broadcast_id = $1 and state = 'finished'`;
    const reported = `select count(*) as n from airing_reports where broadcast_id = $1`;
    await waitFor(async () => (await count(reported, [made.body.id])) > 0, LONG, 200);
    await new Promise((r) => setTimeout(r, 4_000)); // the tone (2 s) airs out on both
    const before = await count(finished, [made.body.id]);
    const again = await procs.startServer(0, 0, false, { ...env, LOA_MQTT_CLIENT_ID: 'loa-a' });
    await waitFor(async () => ((await b.api('GET', `/api/broadcasts/${made.body.id}`)).body.state === 'done' ? true : null), LONG, 200);
    console.log(`two instances: ${2 - before} of 2 'finished' reports waited for the killed instance's session`);
    expect(await count(finished, [made.body.id])).toBe(2);
    expect(leads(again)).toBe(false);
    // The durable jobs run on B now: the planner's row shows a run after the kill.
    await waitFor(async () => Number((await sql.query(`select last_run_at from jobs where name = 'planner'`)).rows[0]?.last_run_at ?? 0) > killedAt, 90_000, 500);
  }, 150_000);
});
