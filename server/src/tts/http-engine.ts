import { AppError, badRequest } from '../shared/errors.ts';
import type { TtsEngine } from './engine.ts';

export interface HttpTtsOptions {
  /** engine name in the API and the cache key; default "http" */
  name?: string;
  /** the provider's synthesis endpoint; receives POST {text, voice, speed} as JSON */
  url: string;
  apiKey?: string;
  /** header carrying the key: "authorization" (default) sends "Bearer <key>", any other header the key as is */
  apiKeyHeader?: string;
  /** the provider's voice names; the first is the default */
  voices: string[];
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * A generic adapter for a cloud Vietnamese TTS provider (or a small proxy in front of one): POST JSON
 * {text, voice, speed} and receive audio bytes (WAV or MP3). Provider trouble surfaces as 502 (refused, broken,
 * not audio) or 504 (too slow) with a message an operator can act on; the key is never echoed.
 */
export class HttpTtsEngine implements TtsEngine {
  readonly name: string;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(private opts: HttpTtsOptions) {
    if (!opts.voices.length) throw new Error('HttpTtsEngine needs at least one voice');
    this.name = opts.name ?? 'http';
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.maxBytes = opts.maxBytes ?? 20 * 1024 * 1024;
  }

  voices(): string[] {
    return [...this.opts.voices];
  }

  async synthesize(text: string, o: { voice?: string; speed?: number } = {}): Promise<Buffer> {
    const voice = o.voice ?? this.opts.voices[0];
    if (!this.opts.voices.includes(voice)) throw badRequest(`unknown voice "${voice}"; ${this.name} has ${this.opts.voices.join(', ')}`, 'body/voice');
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'audio/wav, audio/mpeg, audio/*' };
    if (this.opts.apiKey) {
      const h = (this.opts.apiKeyHeader ?? 'authorization').toLowerCase();
      headers[h] = h === 'authorization' ? `Bearer ${this.opts.apiKey}` : this.opts.apiKey;
    }
    const fail = (status: number, why: string) => new AppError(status, `text-to-speech provider "${this.name}" ${why}`);
    try {
      const res = await fetch(this.opts.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text, voice, speed: o.speed ?? 1 }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.status === 401 || res.status === 403) throw fail(502, `refused our API key (HTTP ${res.status}); check the configured key`);
      if (!res.ok) throw fail(502, `answered HTTP ${res.status}: ${await snippet(res)}`);
      const type = res.headers.get('content-type') ?? '';
      if (!/^(audio\/|application\/octet-stream)/i.test(type)) throw fail(502, `answered ${type || 'no content type'}, not audio: ${await snippet(res)}`);
      if (Number(res.headers.get('content-length') ?? 0) > this.maxBytes) throw fail(502, `answered more than ${this.maxBytes} bytes`);
      const audio = Buffer.from(await res.arrayBuffer());
      if (!audio.length) throw fail(502, 'answered no audio');
      if (audio.length > this.maxBytes) throw fail(502, `answered more than ${this.maxBytes} bytes`);
      return audio;
    } catch (err) {
      if (err instanceof AppError) throw err;
      const e = err as Error & { cause?: { code?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw fail(504, `did not answer within ${this.timeoutMs / 1000} s`);
      throw fail(502, `is unreachable (${e.cause?.code ?? e.message})`);
    }
  }
}

async function snippet(res: Response): Promise<string> {
  const body = await res.text().catch(() => '');
  return body.replace(/\s+/g, ' ').slice(0, 200) || '(empty body)';
}
