/**
 * A relay as a programme ("Tiếp sóng VOV1, hằng ngày"): checked like other programmes, a relay must be its only item,
 * and the planner makes each occurrence a broadcast whose clusters get a stream item. No ingest runs: the slot is
 * hours away.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

let srv: TestServer;
let cluster = '';
let tone = '';

beforeAll(async () => {
  srv = await startServer();
  [{ id: cluster }] = await provision(srv, 1, 'relay-commune');
  tone = await uploadTone(srv, 1);
}, 60_000);
afterAll(() => srv?.close());

it('plans a daily relay programme into stream broadcasts, and refuses what cannot be relayed', async () => {
  const src = await srv.api('POST', '/api/live/sources', { areaId: 'test-province', name: 'Đài tỉnh', primaryUrl: 'http://127.0.0.1:9/dai-tinh.m3u8' });
  expect(src.status, JSON.stringify(src.body)).toBe(201);
  const base = { name: 'Tiếp sóng Đài tỉnh', areaId: 'relay-commune', targets: { clusterIds: [cluster] }, level: 'normal', schedule: { recurrence: { kind: 'daily' }, time: '18:00' } };

  const mixed = await srv.api('POST', '/api/programmes', { ...base, items: [{ type: 'relay', sourceId: src.body.id, durationS: 1800 }, { type: 'content', contentId: tone }] });
  expect(mixed.status).toBe(400);
  expect(mixed.body.field).toBe('body/items/0');
  const unknown = await srv.api('POST', '/api/programmes', { ...base, items: [{ type: 'relay', sourceId: 'rs-none', durationS: 1800 }] });
  expect(unknown.status).toBe(404);
  expect(unknown.body.field).toBe('body/items/0');

  const p = await srv.api('POST', '/api/programmes', { ...base, items: [{ type: 'relay', sourceId: src.body.id, durationS: 1800 }] });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  expect(p.body.live.durationMs).toBe(1_800_000);
  expect(p.body.live.contentId).toBeNull();

  // Planned 48 h ahead: two occurrences at least, each a broadcast with a stream item in the cluster's manifest.
  await srv.app.loa.services.planner.run();
  const items = await waitFor(async () => {
    const m = (await srv.app.loa.services.manifests.delta(cluster, 0)).items.filter((i) => i.stream);
    return m.length >= 2 ? m : null;
  });
  expect(items[0]!.stream).toMatchObject({ url: `/api/device/live/r-${src.body.id}`, durationMs: 1_800_000 });
  const b = await srv.api('GET', `/api/broadcasts/${items[0]!.broadcastId}`);
  expect(b.body.live).toMatchObject({ kind: 'relay', sourceName: 'Đài tỉnh', input: null });

  // A source in use cannot be deleted; the programme gone, it can.
  expect((await srv.api('DELETE', `/api/live/sources/${src.body.id}`)).status).toBe(409);
  expect((await srv.api('DELETE', `/api/programmes/${p.body.id}`)).status).toBe(204);
  await srv.app.loa.services.planner.run();
  await waitFor(async () => ((await srv.api('DELETE', `/api/live/sources/${src.body.id}`)).status === 204 ? true : null));
}, 60_000);
