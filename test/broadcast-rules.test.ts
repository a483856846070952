import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../server/src/demo/start-demo.ts';
import { reports, uploadTone } from './helpers/broadcast.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

/** Store-and-forward, expiry, cancel, corrupt content, priority rules and approval, on Bình Phú's demo clusters. */
let srv: TestServer;
let demo: Awaited<ReturnType<typeof startDemo>>;
let tone2 = '';
const sim = (id: string) => demo.fleet.get(id)!;
const get = async (id: string) => (await srv.api('GET', `/api/broadcasts/${id}`)).body;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const create = async (body: Record<string, unknown>, token?: string) => srv.api('POST', '/api/broadcasts', { title: 'Bản tin', level: 'normal', ...body }, token);
const stateOf = async (b: string, clusterId: string) => (await reports(srv, b)).filter((r) => r.cluster_id === clusterId).map((r) => r.state);

beforeAll(async () => {
  srv = await startServer({ LOA_SYNC_LEAD_MS: '800' });
  demo = await startDemo(srv.app, srv.mqttPort, Number(new URL(srv.httpUrl).port));
  await demo.fleet.waitOnline(20_000);
  tone2 = await uploadTone(srv, 2);
}, 60_000);
afterAll(async () => {
  await demo?.stop();
  await srv?.close();
});

describe('store and forward', () => {
  it('airs a pre-fetched item on time while offline and reports it once on reconnect', async () => {
    const startAt = Date.now() + 3000;
    const b = (await create({ source: { contentId: tone2 }, targets: { clusterIds: ['bp-01'] }, startAt: new Date(startAt).toISOString() })).body;
    await waitFor(async () => (await stateOf(b.id, 'bp-01')).includes('downloaded'), 10_000);
    sim('bp-01').linkDown();
    await new Promise((r) => setTimeout(r, startAt + 2600 - Date.now()));
    expect((await stateOf(b.id, 'bp-01'))).not.toContain('started');
    sim('bp-01').linkUp();
    await waitFor(async () => (await stateOf(b.id, 'bp-01')).includes('finished'), 15_000);
    const started = (await reports(srv, b.id, 'started'));
    expect(started).toHaveLength(1);
    expect(Math.abs(started[0].server_ts - startAt)).toBeLessThan(250);
    expect((await get(b.id)).delivery).toMatchObject({ targeted: 1, started: 1, finished: 1, failed: 0 });
  }, 40_000);
});

describe('expiry, cancel and bad content', () => {
  it('never airs an order that expires before it can play', async () => {
    sim('bp-04').linkDown();
    sim('bp-05').contentFetchDelay(8000);
    const b = (await create({ source: { contentId: tone2 }, targets: { clusterIds: ['bp-04', 'bp-05'] }, startAt: inMs(1000), expiresAt: inMs(3500) })).body;
    await new Promise((r) => setTimeout(r, 4500));
    sim('bp-04').linkUp();
    await waitFor(async () => (await stateOf(b.id, 'bp-05')).some((s) => s === 'skipped' || s === 'failed'), 15_000);
    await waitFor(async () => (await get(b.id)).state === 'expired', 10_000);
    expect((await reports(srv, b.id, 'started'))).toEqual([]);
    sim('bp-05').contentFetchDelay(0);
  }, 40_000);

  it('stops an airing on every target at once when cancelled', async () => {
    const long = await uploadTone(srv, 12, 520);
    const b = (await create({ source: { contentId: long }, targets: { clusterIds: ['bp-02', 'bp-03'] } })).body;
    await waitFor(async () => (await get(b.id)).delivery.started === 2, 15_000);
    const res = await srv.api('POST', `/api/broadcasts/${b.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('cancelled');
    await waitFor(async () => (await Promise.all(['bp-02', 'bp-03'].map((c) => stateOf(b.id, c)))).every((s) => s.includes('cancelled')), 10_000);
    expect(sim('bp-02').nowPlaying).toBeNull();
    expect((await reports(srv, b.id, 'finished'))).toEqual([]);
    expect((await srv.api('POST', `/api/broadcasts/${b.id}/cancel`)).status).toBe(409);
  }, 40_000);

  it('refuses a corrupt download, reports it, and airs after a good retry', async () => {
    sim('bp-06').corruptNextDownload();
    const b = (await create({ source: { contentId: await uploadTone(srv, 2, 610) }, targets: { clusterIds: ['bp-06'] }, startAt: inMs(6000) })).body;
    await waitFor(async () => (await reports(srv, b.id, 'failed')).some((r) => r.reason === 'hash_mismatch'), 10_000);
    await waitFor(async () => (await stateOf(b.id, 'bp-06')).includes('finished'), 20_000);
  }, 40_000);
});

describe('priority bulletins', () => {
  it('wait for the current item, then air in the order the operator set', async () => {
    const normal = (await create({ source: { contentId: await uploadTone(srv, 4, 330) }, targets: { clusterIds: ['bp-07'] } })).body;
    await waitFor(async () => (await stateOf(normal.id, 'bp-07')).includes('started'), 10_000);
    const second = (await create({ level: 'priority', order: 2, maxWaitS: 60, source: { contentId: tone2 }, targets: { clusterIds: ['bp-07'] } })).body;
    const first = (await create({ level: 'priority', order: 1, maxWaitS: 60, source: { contentId: tone2 }, targets: { clusterIds: ['bp-07'] } })).body;
    await waitFor(async () => (await stateOf(second.id, 'bp-07')).includes('finished'), 25_000);
    const at = async (b: string, s: string) => (await reports(srv, b, s))[0]?.server_ts;
    expect((await stateOf(normal.id, 'bp-07'))).not.toContain('interrupted');
    expect((await at(first.id, 'started'))).toBeGreaterThanOrEqual((await at(normal.id, 'finished')));
    expect((await at(second.id, 'started'))).toBeGreaterThanOrEqual((await at(first.id, 'finished')));
  }, 40_000);

  it('preempt a normal item once their maximum wait is over', async () => {
    const normal = (await create({ source: { contentId: await uploadTone(srv, 12, 700) }, targets: { clusterIds: ['bp-08'] }, onPreempt: 'drop' })).body;
    await waitFor(async () => (await stateOf(normal.id, 'bp-08')).includes('started'), 10_000);
    const p = (await create({ level: 'priority', maxWaitS: 1, source: { contentId: tone2 }, targets: { clusterIds: ['bp-08'] } })).body;
    await waitFor(async () => (await stateOf(p.id, 'bp-08')).includes('finished'), 15_000);
    expect((await stateOf(normal.id, 'bp-08'))).toContain('interrupted');
    await waitFor(async () => (await reports(srv, normal.id, 'skipped')).some((r) => r.reason === 'preempted'), 5000);
  }, 40_000);
});

describe('approval and roles', () => {
  const users: Record<string, string> = {};
  beforeAll(async () => {
    for (const role of ['operator', 'approver', 'viewer']) {
      const u = await srv.api('POST', '/api/users', { username: `${role}-bp`, password: `${role}-password-1`, role, areaIds: ['binh-phu'] });
      expect(u.status).toBe(201);
      users[role] = (await srv.api('POST', '/api/auth/login', { username: `${role}-bp`, password: `${role}-password-1` }, '')).body.token;
    }
  });

  it("holds an operator's bulletin as a draft until an approver approves it", async () => {
    const b = await create({ source: { contentId: tone2 }, targets: { clusterIds: ['bp-09'] } }, users.operator);
    expect(b.status).toBe(201);
    expect(b.body.state).toBe('pending_approval');
    // Before approval it shows what will happen: where, how many clusters, in names; and nothing has aired.
    expect(b.body.delivery).toMatchObject({ targeted: 1, received: 0, finished: 0 });
    expect(b.body.reach).toEqual({ clusters: 1, places: [expect.stringMatching(/\S/)] });
    expect(b.body.reach.places[0]).not.toBe('bp-09');
    expect((await srv.api('GET', `/api/broadcasts/${b.body.id}`, undefined, users.approver)).body).toMatchObject({ state: 'pending_approval', reach: { clusters: 1 }, createdBy: 'operator-bp' });
    expect((await srv.api('POST', `/api/broadcasts/${b.body.id}/approve`, undefined, users.operator)).status).toBe(403);
    const ok = await srv.api('POST', `/api/broadcasts/${b.body.id}/approve`, undefined, users.approver);
    expect(ok.body).toMatchObject({ state: 'scheduled', approvedBy: 'approver-bp' });
    await waitFor(async () => (await stateOf(b.body.id, 'bp-09')).includes('finished'), 15_000);
  }, 30_000);

  it('records a rejection with its reason and never airs it', async () => {
    const b = await create({ source: { contentId: tone2 }, targets: { clusterIds: ['bp-10'] } }, users.operator);
    const r = await srv.api('POST', `/api/broadcasts/${b.body.id}/reject`, { reason: 'Sai nội dung' }, users.approver);
    expect(r.body).toMatchObject({ state: 'rejected', rejectReason: 'Sai nội dung' });
    expect((await srv.api('POST', `/api/broadcasts/${b.body.id}/reject`, {}, users.approver)).body.field).toBe('body/reason');
    expect((await reports(srv, b.body.id))).toEqual([]);
  });

  it('lets an emergency bypass a strict policy, recorded in the audit log', async () => {
    expect((await srv.api('PATCH', '/api/areas/binh-phu', { approvalPolicy: 'required' })).status).toBe(200);
    const b = await create({ level: 'emergency', source: { contentId: tone2 }, targets: { clusterIds: ['bp-11'] } }, users.operator);
    expect(b.body.state).toBe('scheduled');
    const audit = await srv.api('GET', `/api/audit?action=broadcast.approval_bypassed`);
    expect(audit.body.map((a: any) => a.targetId)).toContain(b.body.id);
    await waitFor(async () => (await stateOf(b.body.id, 'bp-11')).includes('finished'), 15_000);
  }, 30_000);

  it('refuses a viewer, and an operator outside its areas', async () => {
    expect((await create({ source: { contentId: tone2 }, targets: { clusterIds: ['bp-12'] } }, users.viewer)).status).toBe(403);
    const outside = await create({ source: { contentId: tone2 }, targets: { areaIds: ['dong-thanh'] } }, users.operator);
    expect(outside.status).toBe(400);
    expect(outside.body.field).toBe('body/targets/areaIds/0');
  });
});
