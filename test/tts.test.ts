import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createDb, type Db } from '../server/src/db/client.ts';
import { AuditService } from '../server/src/audit/audit.service.ts';
import { AuditRepo } from '../server/src/audit/audit.repo.ts';
import { ContentRepo } from '../server/src/content/content.repo.ts';
import { ContentStore } from '../server/src/content/content-store.ts';
import { ContentService } from '../server/src/content/content.service.ts';
import { contentRoutes } from '../server/src/content/content.routes.ts';
import { systemActor } from '../server/src/shared/actor.ts';
import type { TtsEngine } from '../server/src/tts/engine.ts';
import { ESPEAK_VOICES, EspeakEngine } from '../server/src/tts/espeak-engine.ts';
import { HttpTtsEngine } from '../server/src/tts/http-engine.ts';
import { createTts, createTtsEngines } from '../server/src/tts/engines.ts';
import { TtsCacheRepo } from '../server/src/tts/tts-cache.repo.ts';
import { TtsService } from '../server/src/tts/tts.service.ts';
import { ttsRoutes } from '../server/src/tts/tts.routes.ts';
import { bareApp, describe as describeAudio, loudness, makeSignal } from './helpers/audio.ts';

const actor = systemActor('test');
const clock = { now: () => Date.now() };
const BULLETIN =
  'UBND xã thông báo: Bão số 5 cách bờ 200km, gió mạnh cấp 12, giật cấp 15. Đề nghị bà con neo đậu tàu thuyền trước 17h30 ngày 12/9. ' +
  'Mọi thông tin xin báo Công an xã, số điện thoại 0912 345 678.';

/** Wraps an engine to count how often it is really asked to speak. */
function counted(engine: TtsEngine) {
  const calls: string[] = [];
  return {
    calls,
    engine: { name: engine.name, voices: () => engine.voices(), synthesize: (t: string, o: { voice?: string; speed?: number }) => (calls.push(t), engine.synthesize(t, o)) } as TtsEngine,
  };
}

let dir: string;
let db: Db;
let content: ContentService;
const espeak = new EspeakEngine();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'loa-tts-'));
  db = createDb(':memory:');
  content = new ContentService(new ContentRepo(db), new ContentStore(dir), new AuditService(new AuditRepo(db), clock), clock);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function wavSeconds(wav: Buffer): Promise<number> {
  // 44-byte canonical header from espeak: 16-bit mono; the byte rate is at offset 28.
  return (wav.length - 44) / wav.readUInt32LE(28);
}

describe('espeak-ng engine', () => {
  it('offers the Vietnamese voices its data really has: Northern, Central and Southern', async () => {
    const listed = await espeak.dataVoices('vi');
    for (const v of ESPEAK_VOICES) expect(listed).toContain(v);
    expect(espeak.voices()[0]).toBe('vi');
  });

  it('speaks Vietnamese as WAV, slower or faster with speed', async () => {
    const text = 'Kính thưa bà con, đây là bản tin của đài truyền thanh xã.';
    const normal = await espeak.synthesize(text, { voice: 'vi' });
    expect(normal.subarray(0, 4).toString()).toBe('RIFF');
    expect(normal.subarray(8, 12).toString()).toBe('WAVE');
    const slow = await espeak.synthesize(text, { voice: 'vi', speed: 0.6 });
    const fast = await espeak.synthesize(text, { voice: 'vi', speed: 1.6 });
    expect(await wavSeconds(slow)).toBeGreaterThan((await wavSeconds(normal)) * 1.3);
    expect(await wavSeconds(fast)).toBeLessThan((await wavSeconds(normal)) * 0.8);
  });

  it('is safe to call concurrently: each call gets its own instance, output equals the sequential output', async () => {
    const texts = ['Một hai ba bốn năm.', 'Trạm Y tế xã thông báo lịch tiêm chủng.', 'Bà con chú ý phòng chống hạn mặn.'];
    const voices = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'];
    const sequential: Buffer[] = [];
    for (const [i, t] of texts.entries()) sequential.push(await espeak.synthesize(t, { voice: voices[i] }));
    const concurrent = await Promise.all(texts.map((t, i) => espeak.synthesize(t, { voice: voices[i] })));
    concurrent.forEach((wav, i) => expect(wav.equals(sequential[i]), texts[i]).toBe(true));
  });

  it('refuses a voice it does not have', async () => {
    await expect(espeak.synthesize('xin chào', { voice: 'en-us' })).rejects.toMatchObject({ statusCode: 400, field: 'body/voice' });
  });
});

describe('text-to-speech bulletins', () => {
  it('synthesises a Vietnamese bulletin through espeak-ng into ready content at −16 LUFS, then serves repeats from the cache', async () => {
    const { engine, calls } = counted(espeak);
    const tts = new TtsService(content, new TtsCacheRepo(db), [engine], clock, { dataDir: dir });
    const first = await tts.synthesize({ text: BULLETIN }, actor);
    expect(first).toMatchObject({ state: 'ready', source: 'tts', title: expect.stringMatching(/^UBND xã thông báo/) });
    expect(first.durationMs).toBeGreaterThan(5000); // speech length, not a blip
    const file = (await content.get(first.id)).sha256!;
    const out = await describeAudio(join(dir, 'content', file));
    expect(out).toMatchObject({ container: 'ogg', codec: 'opus', sampleRate: 48000, channels: 'mono' });
    expect(Math.abs((await loudness(join(dir, 'content', file))).i + 16)).toBeLessThanOrEqual(1);
    // espeak was given words, not digits and abbreviations
    expect(calls[0]).toMatch(/^Ủy ban nhân dân xã thông báo: Bão số năm cách bờ hai trăm ki-lô-mét/);
    expect(calls[0]).toContain('không chín một hai ba bốn năm sáu bảy tám');
    expect(calls[0]).not.toMatch(/\d/);

    const again = await tts.synthesize({ text: BULLETIN }, actor);
    expect(again.id).toBe(first.id);
    expect(calls).toHaveLength(1);
    // Same words written differently normalise to the same text, hence the same cache entry.
    const sameWords = await tts.synthesize({ text: BULLETIN.replace('UBND', 'Ủy ban nhân dân') }, actor);
    expect(sameWords.id).toBe(first.id);
    expect(calls).toHaveLength(1);
  });

  it('frames the bulletin with a generated chime before and after, cached separately', async () => {
    const { engine, calls } = counted(espeak);
    const tts = new TtsService(content, new TtsCacheRepo(db), [engine], clock, { dataDir: dir });
    const text = 'Trạm Y tế xã thông báo: ngày 12/9/2026, từ 7h30 đến 11h, tiêm vắc-xin cho trẻ từ 6-59 tháng tuổi.';
    const [plain, framed] = await Promise.all([
      tts.synthesize({ text }, actor),
      tts.synthesize({ text, chime: { before: true, after: true } }, actor),
    ]);
    expect(framed.id).not.toBe(plain.id);
    // two chimes of 1.75 s, each 0.4 s from the speech
    expect((framed.durationMs! - plain.durationMs!) / 1000).toBeCloseTo(4.3, 0);
    expect(Math.abs(framed.loudness!.integratedLufs + 16)).toBeLessThanOrEqual(1);
    expect(readdirSync(join(dir, 'tts'))).toEqual(['chime-v1.wav']);
    const again = await tts.synthesize({ text, chime: { before: true, after: true } }, actor);
    expect(again.id).toBe(framed.id);
    expect(calls).toHaveLength(2);
    const afterOnly = await tts.synthesize({ text, chime: { after: true } }, actor);
    expect((afterOnly.durationMs! - plain.durationMs!) / 1000).toBeCloseTo(2.15, 0);
  });

  it('synthesises identical concurrent requests once', async () => {
    const { engine, calls } = counted(espeak);
    const tts = new TtsService(content, new TtsCacheRepo(db), [engine], clock, { dataDir: dir });
    const req = { text: 'Thông báo cắt điện từ 8h đến 10h ngày 20/10.', voice: 'vi-vn-x-south', speed: 0.9 };
    const [a, b] = await Promise.all([tts.synthesize(req, actor), tts.synthesize(req, actor)]);
    expect(b.id).toBe(a.id);
    expect(calls).toEqual(['Thông báo cắt điện từ tám giờ đến mười giờ ngày hai mươi tháng mười.']);
  });

  it('refuses an unknown engine or voice, a bad speed and text with nothing to say', async () => {
    const tts = new TtsService(content, new TtsCacheRepo(db), [espeak], clock, { dataDir: dir });
    await expect(tts.synthesize({ text: 'xin chào', engine: 'cloud' }, actor)).rejects.toMatchObject({ statusCode: 400, field: 'body/engine' });
    await expect(tts.synthesize({ text: 'xin chào', voice: 'en' }, actor)).rejects.toMatchObject({ statusCode: 400, field: 'body/voice' });
    await expect(tts.synthesize({ text: 'xin chào', speed: 5 }, actor)).rejects.toMatchObject({ statusCode: 400, field: 'body/speed' });
    await expect(tts.synthesize({ text: ' … — ' }, actor)).rejects.toMatchObject({ statusCode: 400, field: 'body/text' });
  });
});

describe('HTTP text-to-speech adapter', () => {
  let server: Server;
  let base: string;
  let wav: Buffer;
  const seen: { headers: IncomingMessage['headers']; body: any }[] = [];

  beforeAll(async () => {
    const f = await makeSignal(join(dir, 'provider.wav'), { lufs: -24, seconds: 2, args: ['-ac', '1', '-ar', '24000', '-c:a', 'pcm_s16le'] });
    wav = readFileSync(f);
    // A stand-in provider: /speak answers audio, /slow never in time, /json an error page, anything without the key 401.
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c)).on('end', () => {
        seen.push({ headers: req.headers, body: raw ? JSON.parse(raw) : null });
        if (req.headers['x-api-key'] !== 'sekret' && req.headers.authorization !== 'Bearer sekret') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid api key"}');
        } else if (req.url === '/slow') {
          setTimeout(() => res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav), 1500);
        } else if (req.url === '/json') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"error":"quota exceeded"}');
        } else {
          res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const engine = (path: string, over: Partial<ConstructorParameters<typeof HttpTtsEngine>[0]> = {}) =>
    new HttpTtsEngine({ name: 'cloud', url: base + path, apiKey: 'sekret', apiKeyHeader: 'x-api-key', voices: ['banmai', 'leminh'], timeoutMs: 500, ...over });

  it('posts {text, voice, speed} with the key and returns the audio', async () => {
    const audio = await engine('/speak').synthesize('xin chào bà con', { voice: 'leminh', speed: 1.2 });
    expect(audio.equals(wav)).toBe(true);
    expect(seen.at(-1)!.body).toEqual({ text: 'xin chào bà con', voice: 'leminh', speed: 1.2 });
    expect(seen.at(-1)!.headers['x-api-key']).toBe('sekret');
    expect(seen.at(-1)!.headers['content-type']).toBe('application/json');
    await engine('/speak', { apiKeyHeader: undefined }).synthesize('xin chào', {});
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer sekret');
    expect(seen.at(-1)!.body.voice).toBe('banmai');
  });

  it('reports a refused key as 502 without echoing the key', async () => {
    const err = await engine('/speak', { apiKey: 'wrong' }).synthesize('xin chào', {}).catch((e) => e);
    expect(err).toMatchObject({ statusCode: 502, message: expect.stringMatching(/"cloud" refused our API key \(HTTP 401\)/) });
    expect(err.message).not.toContain('wrong');
  });

  it('gives up after the timeout with 504', async () => {
    const started = Date.now();
    await expect(engine('/slow').synthesize('xin chào', {})).rejects.toMatchObject({ statusCode: 504, message: expect.stringMatching(/did not answer within 0.5 s/) });
    expect(Date.now() - started).toBeLessThan(1400);
  });

  it('refuses an answer that is not audio, and an unreachable provider, with 502', async () => {
    await expect(engine('/json').synthesize('xin chào', {})).rejects.toMatchObject({ statusCode: 502, message: expect.stringMatching(/application\/json, not audio: .*quota exceeded/) });
    await expect(new HttpTtsEngine({ url: 'http://127.0.0.1:9/speak', voices: ['a'], timeoutMs: 2000 }).synthesize('x', {})).rejects.toMatchObject({ statusCode: 502, message: expect.stringMatching(/unreachable/) });
  });

  it('plugs into the TTS service like the offline engine', async () => {
    const engines = createTtsEngines({ LOA_TTS_HTTP_URL: `${base}/speak`, LOA_TTS_HTTP_KEY: 'sekret', LOA_TTS_HTTP_VOICES: 'banmai, leminh' });
    expect(engines.map((e) => e.name)).toEqual(['espeak', 'http']);
    expect(createTtsEngines({}).map((e) => e.name)).toEqual(['espeak']);
    const tts = new TtsService(content, new TtsCacheRepo(db), engines, clock, { dataDir: dir });
    expect(tts.voices()).toEqual([
      { engine: 'espeak', default: true, voices: [...ESPEAK_VOICES] },
      { engine: 'http', default: false, voices: ['banmai', 'leminh'] },
    ]);
    const record = await tts.synthesize({ text: 'Thông báo của UBND xã', engine: 'http' }, actor);
    const viaConfig = createTts({ LOA_DATA_DIR: dir, LOA_TTS_ENGINE: 'http', LOA_TTS_HTTP_URL: `${base}/speak`, LOA_TTS_HTTP_KEY: 'sekret', LOA_TTS_HTTP_VOICES: 'banmai' }, db, content, clock);
    expect(viaConfig.voices().find((v) => v.default)?.engine).toBe('http');
    expect(record).toMatchObject({ state: 'ready', source: 'tts' });
    expect(seen.at(-1)!.body).toEqual({ text: 'Thông báo của Ủy ban nhân dân xã', voice: 'banmai', speed: 1 });
  });
});

describe('text-to-speech over HTTP', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const tts = new TtsService(content, new TtsCacheRepo(db), [espeak], clock, { dataDir: dir });
    app = await bareApp(async (a) => {
      await a.register(contentRoutes, { services: { content }, prefix: '/api' });
      await a.register(ttsRoutes, { services: { tts }, prefix: '/api' });
    });
  });
  afterAll(() => app?.close());

  it('previews a bulletin as a content item the console can play', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/tts/preview', payload: { text: 'Xin chào bà con, 15% số hộ đã được hỗ trợ.', chime: { before: true } } });
    expect(res.statusCode).toBe(201);
    const item = res.json();
    expect(item).toMatchObject({ state: 'ready', source: 'tts', createdBy: 'us-operator' });
    // what was spoken, so the operator can check the reading (issue 9 §1)
    expect(item.normalisedText).toBe('Xin chào bà con, mười lăm phần trăm số hộ đã được hỗ trợ.');
    const audio = await app.inject({ method: 'GET', url: `/api/content/${item.id}/audio` });
    expect(audio.statusCode).toBe(200);
    expect(audio.headers['content-type']).toBe('audio/ogg');
    expect(audio.rawPayload.subarray(0, 4).toString()).toBe('OggS');
  });

  it('answers a dry run with the text as it will be spoken, without synthesising', async () => {
    const { engine, calls } = counted(espeak);
    const tts = new TtsService(content, new TtsCacheRepo(db), [engine], clock, { dataDir: dir });
    const dry = await bareApp(async (a) => {
      await a.register(ttsRoutes, { services: { tts }, prefix: '/api' });
    });
    try {
      const text = 'Sở GD&ĐT thông báo: học kỳ I kết thúc ngày 15/1 âm lịch; hỗ trợ 5 triệu đ.';
      const res = await dry.inject({ method: 'POST', url: '/api/tts/normalise', payload: { text, voice: 'vi-vn-x-south' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        normalisedText: 'Sở Giáo dục và Đào tạo thông báo: học kỳ một kết thúc ngày rằm tháng Giêng; hỗ trợ năm triệu đồng.',
        communeId: null,
      });
      expect(calls).toEqual([]);
      const bad = await dry.inject({ method: 'POST', url: '/api/tts/normalise', payload: { text, voice: 'en-us' } });
      expect(bad.json()).toMatchObject({ statusCode: 400, field: 'body/voice' });
      expect((await dry.inject({ method: 'POST', url: '/api/tts/normalise', payload: {} })).json()).toMatchObject({ statusCode: 400, field: 'body/text' });
      expect((await dry.inject({ method: 'POST', url: '/api/tts/normalise', headers: { 'x-role': 'viewer' }, payload: { text } })).statusCode).toBe(403);
    } finally {
      await dry.close();
    }
  });

  it('lists engines and voices, and refuses invalid requests and roles', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/tts/voices', headers: { 'x-role': 'viewer' } })).json()).toEqual([{ engine: 'espeak', default: true, voices: [...ESPEAK_VOICES] }]);
    const empty = await app.inject({ method: 'POST', url: '/api/tts/preview', payload: { text: '' } });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().field).toBe('body/text');
    const voice = await app.inject({ method: 'POST', url: '/api/tts/preview', payload: { text: 'xin chào', voice: 'en-us' } });
    expect(voice.json()).toMatchObject({ statusCode: 400, field: 'body/voice' });
    expect((await app.inject({ method: 'POST', url: '/api/tts/preview', headers: { 'x-role': 'technician' }, payload: { text: 'xin chào' } })).statusCode).toBe(403);
  });
});
