/**
 * A live microphone session over the real path: the console's WebSocket (here a ws client sending WebM/Opus in
 * 100 ms pieces, as MediaRecorder does), the server's decoder and stream, a v1.2 device listening over HTTP, and the
 * end: the stream's last page, the broadcast closing, the recording filed.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deviceTopic } from '../schemas/device-protocol/topics.ts';
import { OggPageReader, type OggPage } from '../schemas/device-protocol/stream.ts';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { connectRaw, provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

let srv: TestServer;
let creds: { id: string; secret: string }[];
let webm: Buffer;

beforeAll(async () => {
  srv = await startServer();
  creds = await provision(srv, 1, 'mic-commune');
  const out = join(srv.dataDir, 'voice.webm');
  const made = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=800:duration=4:sample_rate=48000', '-ac', '1', '-c:a', 'libopus', '-b:a', '32k', '-f', 'webm', out]);
  expect(made.code).toBe(0);
  webm = readFileSync(out);
}, 60_000);

afterAll(() => srv?.close());

it('airs the microphone to a v1.2 cluster, ends with the stream, and keeps the recording', async () => {
  const [dev] = creds;
  const m = await connectRaw(srv.mqttUrl, { clientId: dev!.id, username: dev!.id, password: dev!.secret });
  await m.publishAsync(deviceTopic(dev!.id, 'birth'), JSON.stringify({ protocol: 1, firmware: 't', hardware: 'h', outputs: [{ index: 0 }], bootAt: Date.now(), features: ['stream'] }), { qos: 1 });
  await m.endAsync();
  await waitFor(() => srv.app.loa.services.health.peek(dev!.id)?.birth);

  // Unknown targets are refused with a 4xx and leave no stream running; a commune the account may air to goes live.
  const refused = await srv.api('POST', '/api/live/sessions', { level: 'emergency', targets: { areaIds: ['no-such-area'] } });
  expect(refused.status).toBeGreaterThanOrEqual(400);
  expect(refused.status).toBeLessThan(500);
  const s = await srv.api('POST', '/api/live/sessions', { title: 'Thông báo khẩn', level: 'emergency', targets: { areaIds: ['mic-commune'] } });
  expect(s.status, JSON.stringify(s.body)).toBe(201);
  expect(s.body).toMatchObject({ state: 'waiting', targeted: 1, audioPath: `/api/live/sessions/${s.body.id}/audio` });

  // A foreign page cannot feed it.
  const foreign = new WebSocket(`${srv.httpUrl.replace('http', 'ws')}${s.body.audioPath}`, { headers: { authorization: `Bearer ${srv.token}`, origin: 'http://evil.example' } });
  const foreignMsg = await new Promise<string>((r) => foreign.on('message', (d) => r(String(d))));
  expect(JSON.parse(foreignMsg).type).toBe('error');

  const ws = new WebSocket(`${srv.httpUrl.replace('http', 'ws')}${s.body.audioPath}`, { headers: { authorization: `Bearer ${srv.token}` } });
  const statuses: any[] = [];
  ws.on('message', (d) => statuses.push(JSON.parse(String(d))));
  await new Promise((r) => ws.on('open', r));
  const piece = Math.ceil(webm.length / 40);
  for (let at = 0; at < webm.length; at += piece) {
    ws.send(webm.subarray(at, at + piece));
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor(() => statuses.find((x) => x.type === 'status' && x.state === 'live'));

  // The device hears the stream from the live position.
  const item = (await srv.app.loa.services.manifests.delta(dev!.id, 0)).items.find((i) => i.broadcastId === s.body.broadcastId)!;
  expect(item.level).toBe('emergency');
  expect(item.stream?.durationMs).toBeNull();
  const pages: OggPage[] = [];
  const heard = new Promise<number>((resolve, reject) => {
    const req = request(`${srv.httpUrl}${item.stream!.url}`, { headers: { authorization: `Basic ${Buffer.from(`${dev!.id}:${dev!.secret}`).toString('base64')}` } }, (res) => {
      const reader = new OggPageReader();
      res.on('data', (c: Buffer) => pages.push(...reader.push(c)));
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
  await waitFor(() => pages.length > 20, 10_000);

  const ended = await srv.api('POST', `/api/live/sessions/${s.body.id}/end`);
  expect(ended.status).toBe(200);
  expect(ended.body).toMatchObject({ state: 'ended', endReason: 'ended' });
  expect(await heard).toBe(200);
  expect(pages.at(-1)!.eos).toBe(true); // the device learns the end from the stream itself
  ws.close();

  const rec = await waitFor(async () => (await srv.api('GET', `/api/broadcasts/${s.body.broadcastId}`)).body.live?.recordingId, 20_000);
  expect((await srv.api('GET', `/api/content/${rec}`)).body).toMatchObject({ source: 'recording', state: 'ready' });
}, 90_000);

it('tells the console why the server ended a session: its broadcast was cancelled', async () => {
  const s = await srv.api('POST', '/api/live/sessions', { title: 'Thông báo', level: 'emergency', targets: { areaIds: ['mic-commune'] } });
  expect(s.status, JSON.stringify(s.body)).toBe(201);
  expect(s.body.endReason).toBeNull();
  const ws = new WebSocket(`${srv.httpUrl.replace('http', 'ws')}${s.body.audioPath}`, { headers: { authorization: `Bearer ${srv.token}` } });
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r) => ws.on('open', r));
  ws.send(webm.subarray(0, 4096));
  await waitFor(() => frames.some((f) => f.type === 'status'));
  expect((await srv.api('POST', `/api/broadcasts/${s.body.broadcastId}/cancel`)).status).toBe(200);
  // The last status frame says so before the server closes the socket, and the session keeps the reason.
  expect(await closed).toBe(1000);
  expect(frames.at(-1)).toMatchObject({ type: 'status', state: 'ended', endReason: 'broadcast_over' });
  expect((await srv.api('GET', `/api/live/sessions/${s.body.id}`)).body).toMatchObject({ state: 'ended', endReason: 'broadcast_over' });
}, 60_000);
