import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/server.ts';
import { childProcesses, signIn, type Proc } from './helpers/child-server.ts';
import { uploadTone } from './helpers/broadcast.ts';

/**
 * Issue 8 §2, as the tester ran it: the server and the fleet CLI as two processes on a seeded data dir. The server
 * dies (SIGKILL) under a connected fleet and comes back on the same ports; the clusters reconnect on their own; an
 * emergency to Đồng Thạnh must then reach all 18 live and on time, not from the manifest snapshot of a later
 * reconnect. A restarted broker holds no retained config, so each cluster learns its groups only from the config
 * pushed on its birth — the publish aedes' dedupe used to drop (server/src/mqtt/broker.ts, REMEMBERS_NOTHING).
 */
const procs = childProcesses('loa-restart-');
const { dataDir, run, startServer } = procs;


/** The fleet CLI's latest progress line (once a second), read from `from` on so an older line cannot answer. */
function progress(fleet: Proc, from = 0) {
  const lines = fleet.out().slice(from).match(/online \d+\/\d+ in groups \d+ .*disconnects \d+/g);
  const m = lines && /online (\d+)\/(\d+) in groups (\d+) .*disconnects (\d+)/.exec(lines[lines.length - 1]);
  return m ? { online: +m[1], total: +m[2], inGroups: +m[3], disconnects: +m[4] } : null;
}

afterAll(() => procs.cleanUp(), 10_000);

describe('server restart under a fleet running as its own process', () => {
  it('pushes an emergency live to all 18 clusters of Đồng Thạnh after they reconnect on their own', async () => {
    // Seed the data dir (hierarchy, 34 clusters, demo-fleet.json), then stop: from here on the server runs without demo.
    const seed = await startServer(0, 0, true);
    await waitFor(() => seed.out().includes('demo fleet started'), 30_000, 50);
    seed.child.kill('SIGTERM');
    expect(await seed.exited).toBe(0);

    const first = await startServer(0, 0);
    const tone = await uploadTone(await signIn(first), 4);
    const fleet = run(['firmware-sim/src/cli.ts', '--fleet', join(dataDir, 'demo-fleet.json'), '--server', `mqtt://127.0.0.1:${first.mqttPort}`, '--http', `http://127.0.0.1:${first.httpPort}`, '--skew', '3000', '--drift', '30', '--verbose']);
    await waitFor(() => progress(fleet)?.online === 34, 30_000, 50);

    // The restart: killed, not stopped, and back on the same ports while every cluster retries with its own backoff.
    first.child.kill('SIGKILL');
    await first.exited;
    const mark = fleet.out().length;
    const srv = await startServer(first.httpPort, first.mqttPort);
    const api = (await signIn(srv)).api;
    await waitFor(() => {
      const p = progress(fleet, mark);
      return p && p.disconnects >= 34 && p.online === 34;
    }, 40_000, 50);
    await waitFor(async () => (await api('GET', '/api/areas/dong-thanh/rollup')).body.clustersOnline === 18, 10_000, 50);
    // A cluster subscribes to its groups a moment after its birth; waiting for that keeps a loaded machine from
    // racing it. It must not fail here: the emergency below is what shows whether they followed their groups.
    const inGroups = await waitFor(() => progress(fleet, mark)?.inGroups === 34, 5_000, 50).then(
      () => 34,
      () => progress(fleet, mark)?.inGroups,
    );
    const disconnects = progress(fleet, mark)!.disconnects;

    const e = await api('POST', '/api/broadcasts', { title: 'Khẩn cấp sau khởi động lại', level: 'emergency', source: { contentId: tone }, targets: { areaIds: ['dong-thanh'] } });
    expect(e.status).toBe(201);
    // The default sync lead is 3 s: a live order starts well inside this; a snapshot one would need a reconnect.
    const get = async () => (await api('GET', `/api/broadcasts/${e.body.id}`)).body;
    const b = await waitFor(async () => ((await get()).delivery.started === 18 ? get() : null), 15_000, 100).catch(get);
    expect(b.delivery).toMatchObject({ targeted: 18, received: 18, started: 18 });
    expect(b.delivery.startDelayMs.max).toBeLessThan(1000);
    expect(progress(fleet, mark)!.disconnects).toBe(disconnects);
    expect(inGroups).toBe(34);
  }, 90_000);
});
