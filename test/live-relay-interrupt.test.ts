/**
 * A relay on air, interrupted, and back at the live position — on real parts: an upstream station (ffmpeg MP3 over
 * HTTP, the demo's), the server's ingest and Ogg/Opus stream, its MQTT broker, and three simulated v1.2 clusters with
 * skewed clocks that really listen to the stream over HTTP (firmware-sim stream-*.ts).
 *
 *  1. an emergency file (an uploaded tone) takes the air from the relay on every cluster: the relay airing is
 *     `interrupted`, the emergency plays, then the relay is `resumed` at the live position (its slot still runs), not
 *     where it stopped: the audio missed while the emergency aired is skipped, and the clusters are in step again;
 *  2. a live microphone session (the console's WebSocket feed) does the same; it ends with its stream's EOS.
 *
 * GET /api/broadcasts/:id says it as the console shows it: live.onAir (X of `reach.clusters` playing) falls to 0 while
 * the emergency airs and is back to all once the relay resumes. Timing figures come from clocks (the server's report
 * stamps and the simulator's true play instants), with generous bounds, so they hold on a loaded box.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClock, SimCluster, type StreamPageEvent } from '../firmware-sim/src/index.ts';
import type { AiringReport } from '../schemas/device-protocol/index.ts';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { startDemoUpstream, type DemoUpstream } from '../server/src/demo/demo-upstream.ts';
import { reports, uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

const AREA = 'ri-commune';
const N = 3;
const outputs = [0, 1, 2, 3].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));

let srv: TestServer;
let upstream: DemoUpstream;
let sims: SimCluster[] = [];
let sourceId = '';
let tone = '';
let webm: Buffer;
const pages = new Map<string, StreamPageEvent[]>();
const airings = new Map<string, AiringReport[]>();

beforeAll(async () => {
  srv = await startServer();
  upstream = await startDemoUpstream();
  const creds = await provision(srv, N, AREA);
  tone = await uploadTone(srv, 3, 880);
  const out = join(srv.dataDir, 'voice.webm');
  const made = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=800:duration=3:sample_rate=48000', '-ac', '1', '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', out]);
  expect(made.code).toBe(0);
  webm = readFileSync(out);
  sims = creds.map((c, i) => {
    const s = new SimCluster({ url: srv.mqttUrl, id: c.id, secret: c.secret, outputs, httpUrl: srv.httpUrl, reconnectPeriodMs: 100, bootDelayMs: 50, clock: new DeviceClock({ skewMs: [4000, -2500, 700][i]!, driftPpm: [30, -20, 0][i]! }), timeSync: { samples: 8 } });
    pages.set(c.id, []);
    airings.set(c.id, []);
    s.on('streamPage', (p) => pages.get(c.id)!.push(p));
    s.on('airing', (r) => airings.get(c.id)!.push(r));
    return s;
  });
  await Promise.all(sims.map((s) => s.start()));
  await waitFor(() => sims.every((s) => s.online && s.clockOffsetMs !== null && s.groups.includes(`a-${AREA}`)), 20_000);
  await waitFor(() => sims.every((s) => srv.app.loa.services.health.peek(s.id)?.birth));
  const src = await srv.api('POST', '/api/live/sources', { areaId: AREA, name: 'VOV1', primaryUrl: upstream.url, stallS: 3, retryS: 60 });
  expect(src.status, JSON.stringify(src.body)).toBe(201);
  sourceId = src.body.id;
}, 60_000);

afterAll(async () => {
  await Promise.all(sims.map((s) => s.stop()));
  await srv?.close();
  await upstream?.stop();
});

const view = async (id: string) => (await srv.api('GET', `/api/broadcasts/${id}`)).body;
/** The relay item's life on each cluster, as the cluster reported it. */
const life = (c: string, itemId: string) => airings.get(c)!.filter((r) => r.itemId === itemId).map((r) => r.state);
const relayItem = async (clusterId: string, broadcastId: string) => (await srv.app.loa.services.manifests.delta(clusterId, 0)).items.find((i) => i.broadcastId === broadcastId)!;

/** A relay broadcast starting now, on air on every cluster: its id, item id and slot start (server ms). */
async function relayOnAir(durationS: number): Promise<{ id: string; itemId: string; slot: number }> {
  const b = await srv.api('POST', '/api/broadcasts', { title: 'Tiếp sóng VOV1', level: 'normal', source: { relay: { sourceId, durationS } }, targets: { areaIds: [AREA] } });
  expect(b.status, JSON.stringify(b.body)).toBe(201);
  await srv.app.loa.services.live.tick();
  await srv.app.loa.services.broadcasts.progress();
  await waitFor(async () => (await reports(srv, b.body.id, 'started')).length === N, 25_000);
  const item = await relayItem(sims[0]!.id, b.body.id);
  expect(item.stream).toBeDefined();
  expect((await waitFor(async () => ((await view(b.body.id)).live?.onAir === N ? view(b.body.id) : null))).reach.clusters).toBe(N);
  return { id: b.body.id, itemId: item.id, slot: item.startAt ?? new Date(b.body.startAt).getTime() };
}

/**
 * While `interrupter` airs, the relay is interrupted on every cluster and the view shows 0 of N playing; then every
 * cluster resumes it at the live position. `gone` is when (server ms) the interrupter left the air on each cluster.
 */
async function expectResumedLive(relay: { id: string; itemId: string; slot: number }, interrupter: string, gone: (clusterId: string) => number) {
  const ids = sims.map((s) => s.id);
  const resumed = await waitFor(async () => {
    const r = (await reports(srv, relay.id, 'resumed'));
    return r.length >= N ? r : null;
  }, 25_000);
  const interrupted = (await reports(srv, relay.id, 'interrupted'));
  expect(new Set(interrupted.map((r) => r.cluster_id))).toEqual(new Set(ids));
  expect(new Set(resumed.map((r) => r.cluster_id))).toEqual(new Set(ids));
  for (const c of ids) {
    const cut = interrupted.filter((r) => r.cluster_id === c).at(-1)!;
    const back = resumed.filter((r) => r.cluster_id === c).at(-1)!;
    const left = gone(c);
    // The relay was cut when the interrupter took the air, and resumed only once it had left it.
    expect(back.server_ts).toBeGreaterThanOrEqual(left - 50);
    // At the live position: how far into the slot the air is at the resumption (within the stream latency and the
    // reconnection), not where it was interrupted — the audio aired meanwhile is skipped.
    expect(back.position_ms!).toBeGreaterThan(cut.position_ms! + (left - cut.server_ts) - 500);
    expect(Math.abs(back.position_ms! - (back.server_ts - relay.slot))).toBeLessThan(3000);
    // What it heard after resuming is stamped after the interrupter left: no old audio replayed.
    const after = pages.get(c)!.filter((p) => p.itemId === relay.itemId && p.trueMs > cut.server_ts);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]!.targetMs).toBeGreaterThanOrEqual(left - 300);
    console.log(`${c}: cut at ${cut.position_ms} ms into the slot, interrupter off ${left - cut.server_ts} ms later, resumed at ${back.position_ms} ms (first page due ${Math.round(after[0]!.targetMs - left)} ms after it left)`);
  }
  // Every cluster heard the interrupter through.
  for (const c of ids) expect((await reports(srv, interrupter)).filter((r) => r.cluster_id === c).map((r) => r.state)).toContain('started');
  // The console: all N playing the relay again.
  await waitFor(async () => ((await view(relay.id)).live?.onAir === N ? true : null));
  // And in step again: the same pages heard at the same true instant on every cluster (clock offsets corrected).
  const since = Math.max(...resumed.map((r) => r.server_ts)) + 500;
  await waitFor(() => ids.every((c) => pages.get(c)!.filter((p) => p.itemId === relay.itemId && p.targetMs > since).length > 20), 15_000);
  const byGranule = new Map<number, number[]>();
  for (const c of ids) for (const p of pages.get(c)!) if (p.itemId === relay.itemId && p.targetMs > since) (byGranule.get(p.granule) ?? byGranule.set(p.granule, []).get(p.granule)!).push(p.trueMs);
  const spreads = [...byGranule.values()].filter((t) => t.length === N).map((t) => Math.max(...t) - Math.min(...t));
  expect(spreads.length).toBeGreaterThan(20);
  spreads.sort((a, b) => a - b);
  expect(spreads[Math.floor(spreads.length * 0.9)]!).toBeLessThan(30);
}

describe('a relay interrupted on several clusters', () => {
  it('an emergency file takes the air; the relay resumes at the live position while its slot runs', async () => {
    const relay = await relayOnAir(30);
    const e = await srv.api('POST', '/api/broadcasts', { title: 'Cảnh báo lũ', level: 'emergency', source: { contentId: tone }, targets: { areaIds: [AREA] } });
    expect(e.status, JSON.stringify(e.body)).toBe(201);
    await srv.app.loa.services.broadcasts.progress();
    // While the emergency airs: the relay is interrupted everywhere, 0 of N playing it.
    await waitFor(async () => ((await reports(srv, relay.id, 'interrupted')).length >= N && (await view(relay.id)).live?.onAir === 0 ? true : null), 20_000);
    const finished = await waitFor(async () => {
      const f = (await reports(srv, e.body.id, 'finished'));
      return f.length >= N ? f : null;
    }, 20_000);
    await expectResumedLive(relay, e.body.id, (c) => finished.find((r) => r.cluster_id === c)!.server_ts);
    // The emergency aired in full (3 s) on each cluster.
    for (const c of sims) {
      const started = (await reports(srv, e.body.id, 'started')).find((r) => r.cluster_id === c.id)!;
      const fin = finished.find((r) => r.cluster_id === c.id)!;
      expect(fin.server_ts - started.server_ts).toBeGreaterThan(2500);
      expect(life(c.id, relay.itemId)).toEqual(['received', 'started', 'interrupted', 'resumed']);
    }
    expect((await srv.api('POST', `/api/broadcasts/${relay.id}/cancel`)).status).toBe(200);
    await waitFor(async () => ((await reports(srv, relay.id, 'cancelled')).length === N ? true : null));
  }, 90_000);

  it('a live microphone session takes the air; the relay resumes once the session ends', async () => {
    const relay = await relayOnAir(30);
    const s = await srv.api('POST', '/api/live/sessions', { title: 'Thông báo khẩn', level: 'emergency', targets: { areaIds: [AREA] } });
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    const ws = new WebSocket(`${srv.httpUrl.replace('http', 'ws')}${s.body.audioPath}`, { headers: { authorization: `Bearer ${srv.token}` } });
    const statuses: any[] = [];
    ws.on('message', (d) => statuses.push(JSON.parse(String(d))));
    await new Promise((r) => ws.on('open', r));
    const piece = Math.ceil(webm.length / 30);
    let at = 0;
    const feeder = setInterval(() => {
      if (at < webm.length) ws.send(webm.subarray(at, (at += piece)));
    }, 100);
    try {
      await waitFor(() => statuses.find((x) => x.type === 'status' && x.state === 'live'), 15_000);
      // The microphone is heard on every cluster, and the relay is interrupted everywhere: 0 of N playing it.
      await waitFor(async () => ((await reports(srv, s.body.broadcastId, 'started')).length >= N ? true : null), 20_000);
      await waitFor(async () => ((await reports(srv, relay.id, 'interrupted')).length >= N && (await view(relay.id)).live?.onAir === 0 ? true : null), 10_000);
      await waitFor(() => at >= webm.length, 10_000);
    } finally {
      clearInterval(feeder);
    }
    expect((await srv.api('POST', `/api/live/sessions/${s.body.id}/end`)).status).toBe(200);
    ws.close();
    // The session's airing ends on each cluster with the stream (EOS), then the relay comes back.
    const over = await waitFor(async () => {
      const f = (await reports(srv, s.body.broadcastId)).filter((r) => ['finished', 'cancelled'].includes(r.state));
      return new Set(f.map((r) => r.cluster_id)).size >= N ? f : null;
    }, 20_000);
    await expectResumedLive(relay, s.body.broadcastId, (c) => over.find((r) => r.cluster_id === c)!.server_ts);
    for (const c of sims) expect(life(c.id, relay.itemId)).toEqual(['received', 'started', 'interrupted', 'resumed']);
    expect((await srv.api('POST', `/api/broadcasts/${relay.id}/cancel`)).status).toBe(200);
  }, 90_000);
});
