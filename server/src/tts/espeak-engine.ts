import ESpeakNg from 'espeak-ng';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { badRequest } from '../shared/errors.ts';
import type { TtsEngine } from './engine.ts';

/** eSpeak NG's Vietnamese voices: Northern (Hà Nội, the default), Central (Huế) and Southern (Sài Gòn). */
export const ESPEAK_VOICES = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'] as const;
/**
 * Words per minute at speed 1. Slower than espeak's 175: horn speakers echo between houses and across fields, and
 * announcers there read slowly for the same reason.
 */
export const BASE_WPM = 145;

/**
 * The offline engine: eSpeak NG compiled to WebAssembly, so a commune server without internet can still speak.
 * The 18 MB module is compiled once, on first use. Each call then gets its own instance (own memory and in-memory
 * file system) and runs the espeak-ng command line in it; instances share nothing, so calls need no lock — the
 * tests run several at once and compare them with sequential output.
 */
export class EspeakEngine implements TtsEngine {
  readonly name = 'espeak';
  private compiled?: Promise<WebAssembly.Module>;

  voices(): string[] {
    return [...ESPEAK_VOICES];
  }

  async synthesize(text: string, opts: { voice?: string; speed?: number } = {}): Promise<Buffer> {
    const voice = opts.voice ?? ESPEAK_VOICES[0];
    if (!(ESPEAK_VOICES as readonly string[]).includes(voice)) throw badRequest(`unknown voice "${voice}"; espeak has ${ESPEAK_VOICES.join(', ')}`, 'body/voice');
    const wpm = Math.min(450, Math.max(80, Math.round(BASE_WPM * (opts.speed ?? 1))));
    // Text goes in through a file, not argv: a bulletin starting with "-" would otherwise be taken for an option.
    const run = await this.run(['-v', voice, '-s', String(wpm), '-b', '1', '-f', '/in.txt', '-w', '/out.wav'], text);
    try {
      return Buffer.from(run.fs.readFile('/out.wav'));
    } catch {
      throw new Error(`espeak-ng produced no audio: ${run.errors.join(' ').slice(0, 300)}`);
    }
  }

  /** Voices the installed espeak-ng data has for a language, as `espeak-ng --voices=<lang>` lists them. */
  async dataVoices(lang = 'vi'): Promise<string[]> {
    const run = await this.run([`--voices=${lang}`]);
    return run.printed.slice(1).map((l) => l.trim().split(/\s+/)[1]).filter(Boolean);
  }

  private async run(args: string[], input?: string) {
    const wasm = await (this.compiled ??= compile());
    const printed: string[] = [];
    const errors: string[] = [];
    const mod = await new Promise<Awaited<ReturnType<typeof ESpeakNg>>>((resolve, reject) => {
      ESpeakNg({
        arguments: args,
        print: (l) => printed.push(l),
        printErr: (l) => errors.push(l),
        preRun: input === undefined ? [] : [(m) => m.FS.writeFile('/in.txt', input)],
        instantiateWasm: (imports, done) => {
          WebAssembly.instantiate(wasm, imports).then((instance) => done(instance, wasm), reject);
          return {};
        },
      }).then(resolve, reject);
    });
    return { fs: mod.FS, printed, errors };
  }
}

async function compile(): Promise<WebAssembly.Module> {
  const js = createRequire(import.meta.url).resolve('espeak-ng');
  return WebAssembly.compile(await readFile(join(dirname(js), 'espeak-ng.wasm')));
}
