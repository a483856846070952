import type { Db } from '../db/client.ts';
import type { ContentService } from '../content/content.service.ts';
import type { Clock } from '../shared/clock.ts';
import type { TtsEngine } from './engine.ts';
import { EspeakEngine } from './espeak-engine.ts';
import { HttpTtsEngine } from './http-engine.ts';
import { TtsCacheRepo } from './tts-cache.repo.ts';
import { TtsService, type ReadingSource } from './tts.service.ts';

/** The settings text-to-speech reads; the LOA_TTS_* entries are proposed config entries (all optional). */
export interface TtsConfig {
  LOA_DATA_DIR: string;
  /** engine used when a request names none: "espeak" (default) or "http" */
  LOA_TTS_ENGINE?: string;
  LOA_TTS_HTTP_URL?: string;
  LOA_TTS_HTTP_KEY?: string;
  LOA_TTS_HTTP_KEY_HEADER?: string;
  /** comma-separated voice names of the provider; the first is its default */
  LOA_TTS_HTTP_VOICES?: string;
  LOA_TTS_HTTP_TIMEOUT_MS?: number;
}

/** The offline espeak engine always; the cloud adapter too when a URL and voices are configured. */
export function createTtsEngines(c: Omit<TtsConfig, 'LOA_DATA_DIR'>): TtsEngine[] {
  const engines: TtsEngine[] = [new EspeakEngine()];
  const voices = (c.LOA_TTS_HTTP_VOICES ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  if (c.LOA_TTS_HTTP_URL && voices.length) {
    engines.push(new HttpTtsEngine({ url: c.LOA_TTS_HTTP_URL, apiKey: c.LOA_TTS_HTTP_KEY || undefined, apiKeyHeader: c.LOA_TTS_HTTP_KEY_HEADER || undefined, voices, timeoutMs: c.LOA_TTS_HTTP_TIMEOUT_MS }));
  }
  return engines;
}

/** The composition of the TTS service for services.ts: `createTts(config, db, content, clock, readings)`. */
export function createTts(config: TtsConfig, db: Db, content: ContentService, clock: Clock, readings?: ReadingSource): TtsService {
  const engines = createTtsEngines(config);
  const defaultEngine = config.LOA_TTS_ENGINE && engines.some((e) => e.name === config.LOA_TTS_ENGINE) ? config.LOA_TTS_ENGINE : 'espeak';
  return new TtsService(content, new TtsCacheRepo(db), engines, clock, { dataDir: config.LOA_DATA_DIR, defaultEngine, readings });
}
