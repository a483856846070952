import type { AedesPublishPacket, Client, Subscription } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic, groupTopic } from '../schemas/device-protocol/topics.ts';
import { SimCluster } from '../firmware-sim/src/index.ts';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/**
 * A new cluster learns its groups from the config that answers its birth, so it can subscribe them only after the
 * server has answered the birth (its manifest snapshot included). A broadcast to its commune in between reaches it
 * neither on the group topic (not yet subscribed) nor on its manifest topic (clusters a group covers get no push):
 * online the whole time, it never airs it (until it happens to reconnect). A slow downlink (2G) makes the gap
 * seconds wide; on a good link it is one round trip.
 */
const AREA = 'xa-moi';
const outputs = [0, 1, 2, 3].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));
let srv: TestServer;
let sim: SimCluster | null = null;

beforeAll(async () => {
  srv = await startServer({ LOA_SYNC_LEAD_MS: '1500' });
}, 60_000);
afterAll(async () => {
  await sim?.stop();
  await srv?.close();
}, 30_000);

describe('a broadcast sent while a new cluster subscribes its groups', () => {
  it('is aired by the cluster, online the whole time', async () => {
    const [c] = await provision(srv, 1, AREA);
    const tone = await uploadTone(srv, 1);
    const log: string[] = [];
    const broker = srv.app.loa.broker as unknown as NodeJS.EventEmitter;
    broker.on('subscribe', (subs: Subscription[], client: Client) => {
      for (const s of subs) if (client?.id === c.id && s.topic === groupTopic(`a-${AREA}`, 'play')) log.push('group subscribed');
    });
    broker.on('publish', (p: AedesPublishPacket, client: Client | null) => {
      if (client) return;
      if (p.topic === deviceTopic(c.id, 'manifest')) log.push('manifest');
      if (p.topic === groupTopic(`a-${AREA}`, 'play')) log.push('group play');
    });

    sim = new SimCluster({ url: srv.mqttUrl, id: c.id, secret: c.secret, outputs, httpUrl: srv.httpUrl });
    sim.network({ down: { delayMs: 3000 } });
    void sim.start();
    await waitFor(() => log.includes('manifest'), 20_000); // the server answered the birth
    const res = await srv.api('POST', '/api/broadcasts', { title: 'Họp dân', level: 'normal', source: { contentId: tone }, targets: { areaIds: [AREA] } });
    expect(res.status).toBe(201);
    await waitFor(() => log.includes('group subscribed'), 20_000);
    sim.network(null);
    // The window was hit: the play order went out before the cluster's group subscription.
    expect(log.slice(0, 3)).toEqual(['manifest', 'group play', 'group subscribed']);
    // Granted its group, the cluster is sent what changed since its birth's answer.
    await waitFor(() => log.length === 4);
    expect(log[3]).toBe('manifest');

    const version = await srv.app.loa.services.manifests.version(c.id);
    // It airs it: proof of play, as the server records it.
    await waitFor(async () => (await srv.api('GET', `/api/broadcasts/${res.body.id}`)).body.delivery.finished === 1, 30_000);
    expect(sim.manifestVersion).toBe(version);
  }, 90_000);
});
