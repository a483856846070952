import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemo } from '../server/src/demo/seed.ts';
import { startDemo } from '../server/src/demo/start-demo.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';

let srv: TestServer;
let demo: Awaited<ReturnType<typeof startDemo>>;

beforeAll(async () => {
  srv = await startServer();
  demo = await startDemo(srv.app, srv.mqttPort, Number(new URL(srv.httpUrl).port));
});
afterAll(async () => {
  await demo?.stop();
  await srv?.close();
});

describe('demo fleet', () => {
  it('seeds Tiền Giang → Đồng Thạnh and Bình Phú → hamlets with 34 clusters of 4 speakers', async () => {
    const areas = (await srv.api('GET', '/api/areas')).body as any[];
    const byId = new Map(areas.map((a) => [a.id, a]));
    expect(byId.get('tien-giang')).toMatchObject({ name: 'Tiền Giang', level: 0 });
    expect(byId.get('dong-thanh')).toMatchObject({ name: 'Đồng Thạnh', parentId: 'tien-giang', level: 1 });
    expect(byId.get('binh-phu')).toMatchObject({ name: 'Bình Phú', parentId: 'tien-giang', level: 1 });
    expect(areas.filter((a) => a.kind === 'hamlet').every((a) => a.level === 2 && a.name.startsWith('Ấp '))).toBe(true);
    const clusters = (await srv.api('GET', '/api/clusters')).body;
    expect(clusters.total).toBe(34);
    expect(clusters.items.every((c: any) => c.outputs.length === 4 && c.lat > 10 && c.lat < 11 && c.lon > 106 && c.lon < 107)).toBe(true);
  });

  it('brings all 34 clusters online over MQTT and reports their health', async () => {
    await waitFor(async () => (await srv.api('GET', '/api/clusters?online=true')).body.total === 34, 20_000, 200);
    const dt = (await srv.api('GET', '/api/areas/dong-thanh/rollup')).body;
    expect(dt).toMatchObject({ clustersTotal: 18, clustersOnline: 18, speakersTotal: 72 });
    const bp = (await srv.api('GET', '/api/areas/binh-phu/rollup')).body;
    expect(bp).toMatchObject({ clustersTotal: 16, clustersOnline: 16, speakersTotal: 64 });
    const one = await waitFor(async () => {
      const c = (await srv.api('GET', '/api/clusters/dt-01')).body;
      return c.telemetry && c.birth ? c : null;
    });
    expect(one.birth.firmware).toBe('2.4.1');
    expect(one.telemetry.outputs).toHaveLength(4);
    const metrics = (await srv.api('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^loa_clusters_online 34$/m);
    expect(metrics).toMatch(/^loa_clusters_total 34$/m);
  });

  it('writes the fleet credentials file readable only by its owner', () => {
    const file = join(srv.dataDir, 'demo-fleet.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).clusters).toHaveLength(34);
  });

  it('is idempotent: seeding again duplicates nothing and keeps working secrets', async () => {
    const file = join(srv.dataDir, 'demo-fleet.json');
    const before = readFileSync(file, 'utf8');
    // Seeding alone: a second fleet with the same cluster ids would only fight the first over their sessions.
    const again = await seedDemo(srv.app.loa.services, `mqtt://127.0.0.1:${srv.mqttPort}`, srv.httpUrl);
    expect(again.created).toBe(0);
    expect((await srv.api('GET', '/api/clusters')).body.total).toBe(34);
    expect((await srv.api('GET', '/api/areas')).body.length).toBe(3 + 10);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const { directory } = srv.app.loa.services;
    expect(JSON.parse(before).clusters.every((c: any) => directory.authenticate(c.id, c.secret))).toBe(true);
    // The running fleet is still the one that is online.
    await waitFor(() => demo.fleet.stats().online === 34);
  });
});
