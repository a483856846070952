import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TtsVoices } from '../../../schemas/api/content.ts';
import type { ContentRecord, ContentService } from '../content/content.service.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, badRequest } from '../shared/errors.ts';
import { addChime, ensureChime } from './chime.ts';
import type { TtsEngine } from './engine.ts';
import { normaliseVietnamese } from './normalise.ts';
import type { Reading } from './readings.ts';
import type { TtsCacheRepo } from './tts-cache.repo.ts';

export interface SynthesisRequest {
  text: string;
  voice?: string;
  /** 0.5–2; 1 is the normal bulletin pace */
  speed?: number;
  chime?: { before?: boolean; after?: boolean };
  /** engine name; default the service's default engine */
  engine?: string;
  title?: string;
  /** whose pronunciation list applies (a commune or an area inside it); default the actor's only commune */
  communeId?: string;
  /** where the bulletin airs (a broadcast's target areas): their commune's readings apply when it names none */
  airsIn?: string[];
}

/** Where the commune readings come from (PronunciationsService). */
export interface ReadingSource {
  readingsFor(actor: Actor, areaId?: string, airsIn?: string[]): Promise<{ communeId: string | null; readings: Reading[] }>;
}

/** The text as it will be spoken, with what decided it. */
export interface Normalised {
  engine: TtsEngine;
  voice: string;
  speed: number;
  normalisedText: string;
  communeId: string | null;
}

export interface TtsOptions {
  /** LOA_DATA_DIR: the generated chime is cached in <dataDir>/tts */
  dataDir: string;
  /** engine used when a request names none; default the first engine */
  defaultEngine?: string;
  /** the communes' own readings; none when left out */
  readings?: ReadingSource;
}

/**
 * Bump when normalisation or the chime recipe changes in a way that should re-synthesise cached bulletins.
 * 2: Roman numerals, compound abbreviations, lunar dates, fractions, street names, money, document numbers (issue 9).
 * A commune's readings need no bump: they change the normalised text, which is in the key, so a changed entry
 * re-synthesises exactly the bulletins it changes and no other.
 */
const CACHE_VERSION = 2;

/**
 * Text-to-speech bulletins: normalise the Vietnamese text, synthesise it, optionally frame it with a chime, then
 * ingest it like any upload (same loudness normalisation, same content store). The same request — same normalised
 * text, engine, voice, speed and chime — returns the same content item without synthesising again.
 */
export class TtsService {
  private readonly engines = new Map<string, TtsEngine>();
  private readonly defaultEngine: string;
  /** by cache key: identical requests in flight share one synthesis */
  private readonly inflight = new Map<string, Promise<ContentRecord>>();
  private chime?: Promise<string>;

  constructor(
    private content: ContentService,
    private cache: TtsCacheRepo,
    engines: TtsEngine[],
    private clock: Clock,
    private opts: TtsOptions,
  ) {
    for (const e of engines) this.engines.set(e.name, e);
    this.defaultEngine = opts.defaultEngine ?? engines[0]?.name;
    if (!this.engines.has(this.defaultEngine)) throw new Error(`no text-to-speech engine named "${this.defaultEngine}"`);
  }

  voices(): TtsVoices {
    return [...this.engines.values()].map((e) => ({ engine: e.name, default: e.name === this.defaultEngine, voices: e.voices() }));
  }

  /**
   * What the synthesiser will be given, without synthesising: the commune readings and the reading rules applied.
   * Checks engine, voice and speed as synthesis would, since the voice's region decides how numbers are said.
   */
  async normalise(req: SynthesisRequest, actor: Actor): Promise<Normalised> {
    const engine = this.engines.get(req.engine ?? this.defaultEngine);
    if (!engine) throw badRequest(`unknown engine "${req.engine}"; choose ${[...this.engines.keys()].join(' or ')}`, 'body/engine');
    const voice = req.voice ?? engine.voices()[0];
    if (!engine.voices().includes(voice)) throw badRequest(`unknown voice "${voice}"; ${engine.name} has ${engine.voices().join(', ')}`, 'body/voice');
    const speed = req.speed ?? 1;
    if (!(speed >= 0.5 && speed <= 2)) throw badRequest('speed must be between 0.5 and 2', 'body/speed');
    const { communeId, readings } = (await this.opts.readings?.readingsFor(actor, req.communeId, req.airsIn)) ?? { communeId: null, readings: [] };
    // A Southern voice reads numbers the Southern way (ngàn, lẻ).
    const normalisedText = normaliseVietnamese(req.text, { south: /south/i.test(voice) }, readings);
    return { engine, voice, speed, normalisedText, communeId };
  }

  async synthesize(req: SynthesisRequest, actor: Actor): Promise<ContentRecord & { normalisedText: string }> {
    const { engine, voice, speed, normalisedText: text } = await this.normalise(req, actor);
    if (!/[\p{L}\p{N}]/u.test(text)) throw badRequest('the text has nothing to read aloud', 'body/text');
    const record = await this.contentFor(req, actor, engine, voice, speed, text);
    return { ...record, normalisedText: text };
  }

  private contentFor(req: SynthesisRequest, actor: Actor, engine: TtsEngine, voice: string, speed: number, text: string): Promise<ContentRecord> {
    const chime = { before: req.chime?.before === true, after: req.chime?.after === true };
    const key = createHash('sha256').update(JSON.stringify({ v: CACHE_VERSION, text, engine: engine.name, voice, speed, chime })).digest('hex');

    // The cache lookup is part of the job in the map: no await between the map lookup and its entry, so identical
    // concurrent requests share one lookup and one synthesis.
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const title = req.title ?? titleOf(req.text);
    const job = (async () => (await this.cached(key)) ?? this.make(key, engine, text, voice, speed, chime, title, actor))().finally(() => this.inflight.delete(key));
    this.inflight.set(key, job);
    return job;
  }

  private async cached(key: string): Promise<ContentRecord | null> {
    const id = await this.cache.get(key);
    if (!id) return null;
    try {
      const record = await this.content.get(id);
      if (record.state === 'ready') return record;
    } catch {
      /* the item is gone: synthesise again */
    }
    await this.cache.delete(key);
    return null;
  }

  private async make(key: string, engine: TtsEngine, text: string, voice: string, speed: number, chime: { before: boolean; after: boolean }, title: string, actor: Actor) {
    const speech = this.content.tempPath('.speech');
    const framed = this.content.tempPath('.wav');
    try {
      await writeFile(speech, await engine.synthesize(text, { voice, speed }));
      let input = speech;
      if (chime.before || chime.after) {
        await addChime(speech, await this.chimeFile(), chime, framed);
        input = framed;
      }
      const record = await this.content.ingest(input, { source: 'tts', title, originalName: `${engine.name}-${voice}.wav` }, actor).catch((err) => {
        // The "file" here is our synthesis of the text, so a refusal (e.g. no audible sound) is about the text.
        throw err instanceof AppError && err.field === 'body/file' ? new AppError(err.statusCode, err.message, 'body/text') : err;
      });
      await this.cache.put(key, record.id, this.clock.now());
      return record;
    } finally {
      await Promise.all([rm(speech, { force: true }), rm(framed, { force: true })]);
    }
  }

  private chimeFile(): Promise<string> {
    const made = (this.chime ??= ensureChime(join(this.opts.dataDir, 'tts')));
    made.catch(() => (this.chime = undefined)); // try again next time
    return made;
  }
}

/** A title for the library list: the start of the text as written. */
function titleOf(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? `${t.slice(0, 79)}…` : t;
}
