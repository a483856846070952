/**
 * A relay broadcast end to end through the server, on real parts: an upstream station (ffmpeg MP3 over HTTP on loopback, the demo's), a primary
 * that answers 404, the server's ingest with failover, its Ogg/Opus stream, and a v1.2 device listening over HTTP
 * with its own credentials — plus a v1.1 device whose airing the server refuses on its behalf.
 */
import { request } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '../schemas/device-protocol/topics.ts';
import { OggPageReader, STREAM_EPOCH_HEADER, STREAM_EPOCH_TAG, opusPreSkip, type OggPage } from '../schemas/device-protocol/stream.ts';
import { startDemoUpstream, type DemoUpstream } from '../server/src/demo/demo-upstream.ts';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

let srv: TestServer;
let upstream: DemoUpstream;
let dead: Server;
let deadUrl: string;
let creds: { id: string; secret: string }[];

const birth = (features?: string[]) => JSON.stringify({ protocol: 1, firmware: 'test-1.2', hardware: 'hw', outputs: [{ index: 0 }], bootAt: Date.now(), manifestVersion: 0, ...(features ? { features } : {}) });

/** Reads a live stream as a device would, for `ms`: the epoch header and the pages. */
function listen(url: string, auth: { id: string; secret: string }, ms: number): Promise<{ status: number; epoch: number; pages: OggPage[]; arrivals: number[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Basic ${Buffer.from(`${auth.id}:${auth.secret}`).toString('base64')}` } }, (res) => {
      const reader = new OggPageReader();
      const pages: OggPage[] = [];
      const arrivals: number[] = [];
      res.on('data', (c: Buffer) => {
        if (res.statusCode !== 200) return; // an error body is JSON, not Ogg
        for (const p of reader.push(c)) {
          pages.push(p);
          arrivals.push(Date.now());
        }
      });
      const done = () => resolve({ status: res.statusCode!, epoch: Number(res.headers[STREAM_EPOCH_HEADER]), pages, arrivals });
      res.on('end', done);
      setTimeout(() => {
        req.destroy();
        done();
      }, ms);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  upstream = await startDemoUpstream();
  dead = createServer((_req, res) => res.writeHead(404).end('gone'));
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/vov1.mp3`;
  srv = await startServer();
  creds = await provision(srv, 2, 'live-commune');
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await upstream?.stop();
  dead?.close();
});

describe('relay of an upstream station', () => {
  it('fails over from a 404 primary to the backup, streams in step with the epoch, refuses a v1.1 cluster, and files the recording', async () => {
    const [v12, v11] = creds;
    // One device speaks v1.2 (declares `stream`), the other v1.1 (no features).
    for (const [c, features] of [[v12, ['stream']], [v11, undefined]] as const) {
      const m = await connectRaw(srv.mqttUrl, { clientId: c.id, username: c.id, password: c.secret });
      await m.publishAsync(deviceTopic(c.id, 'birth'), birth(features as string[] | undefined), { qos: 1 });
      await m.endAsync();
    }
    await waitFor(() => srv.app.loa.services.health.peek(v11.id)?.birth);

    const src = await srv.api('POST', '/api/live/sources', { areaId: 'live-commune', name: 'VOV1', primaryUrl: deadUrl, backupUrls: [upstream.url], stallS: 3, retryS: 60 });
    expect(src.status, JSON.stringify(src.body)).toBe(201);
    const bad = await srv.api('POST', '/api/live/sources', { areaId: 'live-commune', name: 'x', primaryUrl: 'ftp://nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toContain('primaryUrl');

    const b = await srv.api('POST', '/api/broadcasts', { title: 'Tiếp sóng VOV1', level: 'normal', source: { relay: { sourceId: src.body.id, durationS: 30 } }, targets: { areaIds: ['live-commune'] } });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    expect(b.body.contentId).toBeNull();

    // The relay starts ahead of its slot; the 404 primary fails over to the backup.
    const status = await waitFor(async () => {
      const s = await srv.api('GET', `/api/live/sources/${src.body.id}`);
      return s.body.live?.input === 'backup' ? s.body.live : null;
    }, 30_000);
    expect(status.switches.map((s: any) => `${s.from}>${s.to}:${s.reason}`)).toContain('primary>backup 1:http_error');

    // The v1.1 cluster is refused with a reason the console shows; the v1.2 one holds a stream item.
    await srv.app.loa.services.broadcasts.progress();
    const airings = await waitFor(async () => {
      const r = await srv.api('GET', `/api/broadcasts/${b.body.id}/airings`);
      return r.body.find?.((a: any) => a.clusterId === v11.id && a.state === 'failed') ? r.body : null;
    });
    expect(airings.find((a: any) => a.clusterId === v11.id).reason).toBe('unsupported_stream');
    const manifest = await srv.app.loa.services.manifests.delta(v12.id, 0);
    const item = manifest.items.find((i) => i.broadcastId === b.body.id)!;
    expect(item.content).toBeUndefined();
    expect(item.stream).toMatchObject({ codec: 'opus', durationMs: 30_000, url: `/api/device/live/r-${src.body.id}` });
    expect((await srv.app.loa.services.manifests.delta(v11.id, 0)).items.some((i) => i.broadcastId === b.body.id)).toBe(false);

    // Not in its manifest (the v1.1 cluster) or wrong credentials: one 404 / 401, nothing told.
    const url = `${srv.httpUrl}${item.stream!.url}`;
    expect((await listen(url, v11, 1500)).status).toBe(404);
    expect((await listen(url, { id: v12.id, secret: 'wrong-secret-wrong-secret' }, 1500)).status).toBe(401);

    // The v1.2 device: header pages (OpusHead, OpusTags with the epoch), then audio pages whose granules follow the
    // server clock: a page's stamp (epoch + granule / 48 kHz) is never later than its arrival, and not far earlier.
    const heard = await listen(url, v12, 4000);
    expect(heard.status).toBe(200);
    expect(heard.epoch).toBeGreaterThan(0);
    const [head, tags, ...audio] = heard.pages;
    expect(head!.bos).toBe(true);
    const preSkip = opusPreSkip(head!.body);
    expect(tags!.body.toString('latin1')).toContain(`${STREAM_EPOCH_TAG}=${heard.epoch}`);
    expect(audio.length).toBeGreaterThan(50); // 20 ms pages over ~4 s
    const lags = audio.map((p, i) => heard.arrivals[i + 2]! - (heard.epoch + ((p.granule - preSkip) * 1000) / 48_000));
    lags.sort((x, y) => x - y);
    expect(lags[0]).toBeGreaterThan(-25); // a page never arrives before its audio entered the encoder
    expect(lags[Math.floor(lags.length / 2)]).toBeLessThan(600); // encoder + HTTP: well inside the 1 s latency
    for (let i = 1; i < audio.length; i++) expect(audio[i]!.granule).toBeGreaterThan(audio[i - 1]!.granule);

    // The running streams are listed to those who may see them: not to an operator of another commune.
    await provision(srv, 1, 'other-commune');
    expect((await srv.api('POST', '/api/users', { username: 'op-other', password: 'mat-khau-xa-khac-1', role: 'operator', areaIds: ['other-commune'] })).status).toBe(201);
    const other = (await srv.api('POST', '/api/auth/login', { username: 'op-other', password: 'mat-khau-xa-khac-1' }, '')).body.token;
    const streams = (await srv.api('GET', '/api/live/streams')).body as { sourceId: string; paddedMs: number; droppedMs: number; droppedPages: number }[];
    const mine = streams.find((x) => x.sourceId === src.body.id)!;
    // The stream ran before the backup's first audio came (the 404, then ffmpeg connecting): that much silence.
    expect(mine.paddedMs).toBeGreaterThan(0);
    expect(mine.droppedPages).toBe(0);
    expect((await srv.api('GET', '/api/live/streams', undefined, other)).body).toEqual([]);
    // So are its events on the live stream (SSE): a switch reaches the admin, not the other commune's operator.
    const heardBy = async (token: string) => {
      const ctrl = new AbortController();
      const res = await fetch(`${srv.httpUrl}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
      const reader = res.body!.getReader();
      let text = '';
      const read = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return;
          text += Buffer.from(value!).toString();
        }
      })();
      return { text: () => text, close: async () => (ctrl.abort(), await read) };
    };
    const [seenByAdmin, seenByOther] = [await heardBy(srv.token), await heardBy(other)];
    await waitFor(() => seenByAdmin.text().includes('event: hello') && seenByOther.text().includes('event: hello'), 5000);
    srv.app.loa.services.bus.emit('live.changed', { streamId: `r-${src.body.id}`, kind: 'relay', sourceId: src.body.id, input: 'backup', switch: { at: new Date().toISOString(), from: 'primary', to: 'backup 1', reason: 'stalled' } });
    await waitFor(() => seenByAdmin.text().includes('event: live'), 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(seenByOther.text()).not.toContain('event: live');
    await Promise.all([seenByAdmin.close(), seenByOther.close()]);

    // The view says what the stream carries; cancelling ends the stream and files the recording with the broadcast.
    const view = await srv.api('GET', `/api/broadcasts/${b.body.id}`);
    expect(view.body.live).toMatchObject({ kind: 'relay', sourceName: 'VOV1', input: 'backup' });
    expect((await srv.api('POST', `/api/broadcasts/${b.body.id}/cancel`)).status).toBe(200);
    await srv.app.loa.services.live.tick();
    const rec = await waitFor(async () => (await srv.api('GET', `/api/broadcasts/${b.body.id}`)).body.live?.recordingId, 40_000);
    // The stream is gone; the broadcast's log still says what went out and why.
    expect(srv.app.loa.services.live.status(`r-${src.body.id}`)).toBeNull();
    const log = (await srv.api('GET', `/api/broadcasts/${b.body.id}`)).body.live.switches as { from: string; to: string; reason: string }[];
    expect(log.map((x) => `${x.from}>${x.to}:${x.reason}`)).toEqual(expect.arrayContaining(['primary>backup 1:http_error']));
    const content = await srv.api('GET', `/api/content/${rec}`);
    expect(content.body).toMatchObject({ source: 'recording', state: 'ready' });
    expect(content.body.durationMs).toBeGreaterThan(3000);
  }, 120_000);
});
