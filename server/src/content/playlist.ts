import { rm } from 'node:fs/promises';
import type { Actor } from '../shared/actor.ts';
import { badRequest } from '../shared/errors.ts';
import { errorLines, runFfmpeg } from './ffmpeg.ts';
import type { ContentRecord, ContentService } from './content.service.ts';

/**
 * A bulletin made of several items (a chime, a recording, a synthesised notice …) airs as one programme: the
 * devices get one file, so the items cannot drift apart between clusters. Decoded, joined with a short pause,
 * then ingested like any upload (same loudness normalisation, same store).
 */
export async function joinContent(content: ContentService, ids: string[], actor: Actor, title?: string): Promise<ContentRecord> {
  if (ids.length < 2) throw badRequest('a playlist needs at least two items', 'body/source/items');
  const files: string[] = [];
  for (const [i, id] of ids.entries()) {
    try {
      files.push((await content.audioFile(id)).path);
    } catch {
      throw badRequest(`item ${i + 1}: content ${id} is not ready`, `body/source/items/${i}`);
    }
  }
  const out = content.tempPath('.wav');
  const inputs = files.flatMap((f) => ['-i', f]);
  // 400 ms of silence after each item, as an announcer would leave (19,200 samples at 48 kHz; the npm ffmpeg predates pad_dur).
  const chain = files.map((_, i) => `[${i}:a]aresample=48000,aformat=channel_layouts=mono,apad=pad_len=19200[a${i}]`).join(';');
  const concat = files.map((_, i) => `[a${i}]`).join('') + `concat=n=${files.length}:v=0:a=1[out]`;
  try {
    const run = await runFfmpeg(['-hide_banner', '-nostdin', '-v', 'error', '-y', ...inputs, '-filter_complex', `${chain};${concat}`, '-map', '[out]', out]);
    if (run.code !== 0) throw new Error(errorLines(run.stderr));
    return await content.ingest(out, { source: 'playlist', title, originalName: `playlist-${ids.length}.wav` }, actor);
  } finally {
    await rm(out, { force: true });
  }
}
