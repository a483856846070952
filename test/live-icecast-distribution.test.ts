/**
 * Distribution through Icecast end to end (LOA_ICECAST_URL), on real parts: an upstream station (ffmpeg MP3 over
 * HTTP), the server's ingest and Ogg/Opus stream pushed as a source client to a real icecast2 on loopback, and
 * simulated v1.2 clusters with skewed clocks whose stream items point at the Icecast mount. They fetch from Icecast
 * (not from the server), place the pages in time from the LOA_EPOCH_MS OpusTags comment alone (Icecast passes no
 * header of its source), drop the old audio of Icecast's connect burst, and play in step; the server reports them
 * playing. Figures from clocks (each page's true play instant from the device clock), generous bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClock, SimCluster, type StreamPageEvent } from '../firmware-sim/src/index.ts';
import { OggPageReader, STREAM_EPOCH_HEADER, STREAM_EPOCH_TAG } from '../schemas/device-protocol/stream.ts';
import { epochTag } from '../firmware-sim/src/stream-timeline.ts';
import { startDemoUpstream, type DemoUpstream } from '../server/src/demo/demo-upstream.ts';
import { reports } from './helpers/broadcast.ts';
import { icecastAvailable, startIcecast, type IcecastServer } from './helpers/icecast.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

const AREA = 'ice-commune';
const N = 4;
const outputs = [0, 1, 2, 3].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));

/** Icecast's own list of the listeners of a mount (admin/listclients, current, unlike status-json's counters). */
async function mountListeners(ice: IcecastServer, mount: string): Promise<number> {
  const res = await fetch(`${ice.base}/admin/listclients?mount=${encodeURIComponent(mount)}`, { headers: { authorization: `Basic ${Buffer.from(`admin:${ice.adminPassword}`).toString('base64')}` } });
  return (await res.text()).split('<listener>').length - 1;
}

/** The first bytes a plain listener gets from `url`: the response headers and the first pages. */
async function peek(url: string, wantPages: number): Promise<{ status: number; headers: Headers; pages: ReturnType<OggPageReader['push']> }> {
  const ctl = new AbortController();
  const res = await fetch(url, { signal: ctl.signal });
  const reader = new OggPageReader();
  const pages: ReturnType<OggPageReader['push']> = [];
  if (res.status === 200) {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        pages.push(...reader.push(Buffer.from(chunk)));
        if (pages.length >= wantPages) break;
      }
    } finally {
      ctl.abort();
    }
  }
  return { status: res.status, headers: res.headers, pages };
}

describe.skipIf(!icecastAvailable())('live streams distributed through Icecast (icecast2 not installed: apt-get install icecast2)', () => {
  let ice: IcecastServer;
  let srv: TestServer;
  let upstream: DemoUpstream;
  let sims: SimCluster[] = [];
  const pages = new Map<string, StreamPageEvent[]>();

  beforeAll(async () => {
    ice = await startIcecast();
    upstream = await startDemoUpstream();
    srv = await startServer({ LOA_ICECAST_URL: `http://source:${ice.sourcePassword}@127.0.0.1:${ice.port}` });
    const creds = await provision(srv, N, AREA);
    sims = creds.map((c, i) => {
      const s = new SimCluster({ url: srv.mqttUrl, id: c.id, secret: c.secret, outputs, httpUrl: srv.httpUrl, reconnectPeriodMs: 100, bootDelayMs: 50, clock: new DeviceClock({ skewMs: [5000, -3000, 1200, -400][i]!, driftPpm: [40, -30, 10, 0][i]! }), timeSync: { samples: 8 } });
      pages.set(c.id, []);
      s.on('streamPage', (p) => pages.get(c.id)!.push(p));
      return s;
    });
    await Promise.all(sims.map((s) => s.start()));
    await waitFor(() => sims.every((s) => s.online && s.clockOffsetMs !== null && srv.app.loa.services.health.peek(s.id)?.birth), 20_000);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    await srv?.close();
    await upstream?.stop();
    await ice?.stop();
  });

  it('clusters fetch the relay from the Icecast mount, time it from the OpusTags epoch, and play in step', async () => {
    const src = await srv.api('POST', '/api/live/sources', { areaId: AREA, name: 'VOV1', primaryUrl: upstream.url });
    expect(src.status, JSON.stringify(src.body)).toBe(201);
    const streamId = `r-${src.body.id}`;
    const mount = `/${streamId}.ogg`;
    const b = await srv.api('POST', '/api/broadcasts', { title: 'Tiếp sóng VOV1', level: 'normal', source: { relay: { sourceId: src.body.id, durationS: 30 } }, targets: { areaIds: [AREA] } });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    await srv.app.loa.services.live.tick();
    await srv.app.loa.services.broadcasts.progress();

    // The item sends the cluster to Icecast, not to the server.
    const item = (await srv.app.loa.services.manifests.delta(sims[0]!.id, 0)).items.find((i) => i.broadcastId === b.body.id)!;
    expect(item.stream).toMatchObject({ url: `${ice.base}${mount}`, codec: 'opus', durationMs: 30_000 });

    // Icecast carries the stream's timeline: no epoch header (Icecast passes none of its source's), but the OpusTags
    // comment holds the server's epoch, exactly.
    await waitFor(async () => ((await ice.mounts()).includes(mount) ? true : null), 20_000);
    const plain = await peek(`${ice.base}${mount}`, 4);
    expect(plain.status).toBe(200);
    expect(plain.headers.get(STREAM_EPOCH_HEADER)).toBeNull();
    expect(plain.pages[0]!.body.toString('latin1', 0, 8)).toBe('OpusHead');
    const epoch = srv.app.loa.services.live.stream(streamId)!.epochMs;
    expect(epochTag(plain.pages[1]!.body)).toBe(epoch);
    expect(plain.pages[1]!.body.toString('latin1')).toContain(`${STREAM_EPOCH_TAG}=${epoch}`);

    // Every cluster starts it and the server counts them playing: N of N.
    await waitFor(async () => ((await reports(srv, b.body.id, 'started')).length === N ? true : null), 25_000);
    const view = await waitFor(async () => {
      const v = (await srv.api('GET', `/api/broadcasts/${b.body.id}`)).body;
      return v.live?.onAir === N ? v : null;
    });
    expect(view.reach.clusters).toBe(N);
    // They listen at Icecast: N listeners on the mount; the server's stream has one listener, its Icecast source client.
    expect(await mountListeners(ice, mount)).toBeGreaterThanOrEqual(N);
    expect(srv.app.loa.services.live.status(streamId)!.listeners).toBe(1);

    // A few seconds of audio on each, then the timing figures.
    const since = Math.max(...sims.map((s) => s.playbackRecord(item.id)!.targetMs!));
    await waitFor(() => sims.every((s) => pages.get(s.id)!.filter((p) => p.targetMs > since).length > 75), 20_000); // 3 s of 40 ms pages
    const starts = sims.map((s) => s.playbackRecord(item.id)!);
    const startErr = starts.map((r) => r.trueStartMs - r.targetMs!);
    const byGranule = new Map<number, number[]>();
    for (const s of sims) for (const p of pages.get(s.id)!) if (p.itemId === item.id) (byGranule.get(p.granule) ?? byGranule.set(p.granule, []).get(p.granule)!).push(p.trueMs);
    const spreads = [...byGranule.values()].filter((t) => t.length === N).map((t) => Math.max(...t) - Math.min(...t)).sort((x, y) => x - y);
    const stats = sims.map((s) => s.streamStats(item.id)!);
    console.log(`icecast distribution: start error vs stamp ${startErr.map((e) => e.toFixed(1)).join(', ')} ms; page spread between clusters p50 ${spreads[Math.floor(spreads.length / 2)]!.toFixed(1)} p90 ${spreads[Math.floor(spreads.length * 0.9)]!.toFixed(1)} ms over ${spreads.length} pages; dropped late (burst) ${stats.map((x) => x.droppedLate).join(', ')}; underruns ${stats.map((x) => x.underruns).join(', ')}`);
    // Each started on its stamp (the page's server instant on its own corrected clock), so within a few ms of each other.
    for (const e of startErr) expect(Math.abs(e)).toBeLessThan(25);
    expect(Math.max(...startErr) - Math.min(...startErr)).toBeLessThan(30);
    expect(spreads.length).toBeGreaterThan(50);
    expect(spreads[Math.floor(spreads.length * 0.9)]!).toBeLessThan(30);

    expect((await srv.api('POST', `/api/broadcasts/${b.body.id}/cancel`)).status).toBe(200);
    await waitFor(async () => ((await reports(srv, b.body.id, 'cancelled')).length === N ? true : null));
  }, 90_000);
});
