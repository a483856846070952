import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimCluster } from '../firmware-sim/src/index.ts';
import { reports, uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * Issue 8 §3, end to end: a real server and simulated clusters over TCP. New clusters — provisioned, connected once
 * (their first, empty manifest), never sent a broadcast — are away when the first broadcast to their commune goes
 * out: one has lost its link, one has lost its power. Once back they must air it, and their proof of play must
 * reach the server.
 */
const AREA = 'xa-dau-tien';
const outputs = [0, 1, 2, 3].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));
let srv: TestServer;
let fleet: { id: string; secret: string }[];
let tone: string;
const sims: SimCluster[] = [];

beforeAll(async () => {
  srv = await startServer({ LOA_SYNC_LEAD_MS: '1500' });
  fleet = await provision(srv, 4, AREA);
  tone = await uploadTone(srv, 1);
}, 60_000);

afterAll(async () => {
  await Promise.all(sims.map((s) => s.stop()));
  await srv?.close();
}, 30_000);

const delivery = async (id: string) => (await srv.api('GET', `/api/broadcasts/${id}`)).body.delivery;
const health = async (id: string) => (await srv.api('GET', `/api/clusters/${id}`)).body.health as { online: boolean };

describe('clusters offline during their very first broadcast', () => {
  it('air it after they reconnect, and the server counts every cluster finished', async () => {
    for (const c of fleet) {
      sims.push(new SimCluster({ url: srv.mqttUrl, id: c.id, secret: c.secret, outputs, httpUrl: srv.httpUrl, reconnectPeriodMs: 200, reconnectMaxMs: 1000, bootDelayMs: 200 }));
    }
    await Promise.all(sims.map((s) => s.start()));
    // Each holds its first manifest (empty) and follows its commune's group.
    await waitFor(() => sims.every((s) => s.manifestVersion >= 1 && s.groups.includes(`a-${AREA}`)), 20_000);
    expect(sims.map((s) => s.items)).toEqual([[], [], [], []]);

    const [cut, unplugged, ...here] = sims;
    cut.linkDown();
    unplugged.kill();
    await waitFor(async () => (await health(cut.id)).online === false && (await health(unplugged.id)).online === false, 20_000);

    const res = await srv.api('POST', '/api/broadcasts', { title: 'Bản tin đầu tiên', level: 'normal', source: { contentId: tone }, targets: { areaIds: [AREA] } });
    expect(res.status).toBe(201);
    const b = res.body;

    // The clusters that were there air it first; the two away have nothing.
    await waitFor(async () => (await delivery(b.id)).finished === 2, 30_000);
    expect(here.every((s) => s.counters.airingFinished === 1)).toBe(true);
    expect([cut.counters.itemsReceived, unplugged.counters.itemsReceived]).toEqual([0, 0]);

    // Back: the link returns, the power comes back on (the manifest survives in flash).
    cut.linkUp();
    void unplugged.start();
    await waitFor(async () => (await delivery(b.id)).finished === 4, 30_000);

    for (const s of [cut, unplugged]) {
      expect(s.counters.airingFinished).toBe(1);
      const states = (await reports(srv, b.id)).filter((r) => r.cluster_id === s.id).map((r) => r.state);
      expect(states).toEqual(expect.arrayContaining(['received', 'downloaded', 'started', 'finished']));
    }
    expect(await delivery(b.id)).toMatchObject({ targeted: 4, received: 4, downloaded: 4, started: 4, finished: 4, failed: 0, failures: [] });
    await waitFor(async () => (await srv.api('GET', `/api/broadcasts/${b.id}`)).body.state === 'done', 10_000);
    // Aired once each, never twice.
    expect(sims.map((s) => s.counters.airingStarted)).toEqual([1, 1, 1, 1]);
  }, 90_000);
});
