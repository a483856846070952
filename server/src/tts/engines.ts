import type { TtsEngine } from './engine.ts';
import { EspeakEngine } from './espeak-engine.ts';
import { HttpTtsEngine } from './http-engine.ts';

/** The settings the engines read; proposed LOA_TTS_* config entries (see the content/TTS hand-over notes). */
export interface TtsEngineConfig {
  LOA_TTS_HTTP_URL?: string;
  LOA_TTS_HTTP_KEY?: string;
  LOA_TTS_HTTP_KEY_HEADER?: string;
  /** comma-separated voice names of the provider */
  LOA_TTS_HTTP_VOICES?: string;
  LOA_TTS_HTTP_TIMEOUT_MS?: number;
}

/** The offline espeak engine always; the cloud adapter too when a URL and voices are configured. */
export function createTtsEngines(c: TtsEngineConfig): TtsEngine[] {
  const engines: TtsEngine[] = [new EspeakEngine()];
  const voices = (c.LOA_TTS_HTTP_VOICES ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  if (c.LOA_TTS_HTTP_URL && voices.length) {
    engines.push(new HttpTtsEngine({ url: c.LOA_TTS_HTTP_URL, apiKey: c.LOA_TTS_HTTP_KEY || undefined, apiKeyHeader: c.LOA_TTS_HTTP_KEY_HEADER || undefined, voices, timeoutMs: c.LOA_TTS_HTTP_TIMEOUT_MS }));
  }
  return engines;
}
