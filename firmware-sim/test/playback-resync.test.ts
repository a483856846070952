/**
 * A device re-syncs its clock shortly before a scheduled start (docs/device-protocol.md §10): an offset from the
 * last periodic sync (600 s ago at worst) may have drifted 30 ms at 50 ppm, three times the synchronised-start budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimCluster } from '../src/index.ts';
import { ContentServer, OUTPUTS, SECRET, TestBroker, playItem, waitFor } from './harness.ts';

const trueNow = () => performance.timeOrigin + performance.now();
let broker: TestBroker;
let http: ContentServer;
let c: SimCluster;
const timeRequests = () => broker.publishes.filter((p) => p.topic === `loa/v1/dev/${c.id}/time/req`).length;

beforeEach(async () => {
  broker = await TestBroker.start({ trueNow });
  http = await ContentServer.start();
  c = new SimCluster({ url: broker.url, id: 'cum-resync-01', secret: SECRET, outputs: OUTPUTS, httpUrl: http.url, reconnectPeriodMs: 50, timeSync: { samples: 4 } });
  http.secrets.set(c.id, SECRET);
  await c.start();
  await waitFor(() => c.clockOffsetMs !== null && timeRequests() === 4, 3000, 'first time sync');
});
afterEach(async () => {
  await c.stop();
  await broker.close();
  await http.close();
});

describe('re-sync before a scheduled start', () => {
  it('takes a fresh time-sync burst before the start when its last sync is older than a minute', async () => {
    (c as unknown as { syncedAt: number }).syncedAt = c.clock.now() - 5 * 60_000; // as if synced 5 minutes ago
    const file = http.addRandom(4_000, 3);
    await broker.sendManifest(c.id, { version: 1, baseVersion: 0, items: [playItem(file, { startAt: Math.round(trueNow() + 1500) }, trueNow())] });
    await waitFor(() => timeRequests() >= 8, 3000, 'a second burst');
    await waitFor(() => broker.airings(c.id).some((r) => r.state === 'started'), 5000, 'the start');
    expect(timeRequests()).toBe(8);
  });

  it('does not re-sync when the last sync is fresh', async () => {
    const file = http.addRandom(4_000, 4);
    await broker.sendManifest(c.id, { version: 1, baseVersion: 0, items: [playItem(file, { startAt: Math.round(trueNow() + 800) }, trueNow())] });
    await waitFor(() => broker.airings(c.id).some((r) => r.state === 'started'), 5000, 'the start');
    expect(timeRequests()).toBe(4);
  });
});
