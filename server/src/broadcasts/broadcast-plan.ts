import type { BroadcastSource } from '../../../schemas/api/broadcasts.ts';
import type { Actor } from '../shared/actor.ts';
import { AppError, badRequest } from '../shared/errors.ts';
import type { BroadcastRow } from './broadcasts.repo.ts';
import type { QuietHours } from './quiet-hours.ts';

export interface PlayableContent {
  playable(id: string): Playable;
  /** one programme made of several ready items */
  join(ids: string[], actor: Actor, title: string): Promise<{ id: string }>;
}
export interface Playable {
  sha256: string;
  size: number;
  durationMs: number;
}
export interface Speech {
  /** `airsIn`: the areas the bulletin airs in, whose commune's readings apply */
  synthesize(req: { text: string; voice?: string; speed?: number; chime?: { before?: boolean; after?: boolean }; airsIn?: string[] }, actor: Actor): Promise<{ id: string }>;
}
export interface TimingOptions {
  /** lead time between the order and a "now" start, so every cluster of a commune can start together */
  syncLeadMs: number;
  /** how long after its last airing should have ended an order stays valid */
  graceMs: number;
  quietHours: QuietHours | null;
}
export type TimingInput = Pick<BroadcastRow, 'startAt' | 'expiresAt' | 'level' | 'repeatCount' | 'repeatIntervalS' | 'contentId'>;

/** A ready content id for any source: synthesised, uploaded, or several joined into one programme. */
export async function resolveContent(source: BroadcastSource, title: string, actor: Actor, content: PlayableContent, speech: Speech, airsIn: string[]): Promise<string> {
  if ('items' in source) {
    const ids = [];
    for (const [i, item] of source.items.entries()) {
      try {
        ids.push(await resolveContent(item, title, actor, content, speech, airsIn));
      } catch (e) {
        // Point at the item that failed, keeping the status that says why.
        if (e instanceof AppError) throw new AppError(e.statusCode, `item ${i + 1}: ${e.message}`, `body/source/items/${i}`);
        throw e;
      }
    }
    return (await content.join(ids, actor, title)).id;
  }
  const id = 'tts' in source
    ? (await speech.synthesize({ ...source.tts, chime: source.tts.chime ? { before: true, after: true } : undefined, airsIn }, actor)).id
    : source.contentId;
  content.playable(id); // 404/409 before anything is written
  return id;
}

/**
 * When the airings will be, checked before anything is written: a "now" start gets the sync lead so a commune
 * starts in step; quiet hours hold everything but emergencies; an order must not expire before it starts.
 * Repeats shorter than the programme run back to back, as on the devices.
 */
export function planTiming(row: TimingInput, c: Playable, now: number, o: TimingOptions) {
  const startAt = Math.max(row.startAt ?? 0, now + o.syncLeadMs);
  const step = Math.max(row.repeatIntervalS * 1000, c.durationMs);
  if (o.quietHours && row.level !== 'emergency') {
    for (let seq = 0; seq < row.repeatCount; seq++) {
      if (o.quietHours.covers(startAt + seq * step)) {
        throw badRequest(`airing ${seq + 1} would fall in quiet hours ${o.quietHours.label}; only emergencies air then`, 'body/startAt');
      }
    }
  }
  const expiresAt = row.expiresAt ?? startAt + (row.repeatCount - 1) * step + c.durationMs + o.graceMs;
  if (expiresAt <= now) throw badRequest('the broadcast would expire before it starts', 'body/expiresAt');
  return { c, startAt, expiresAt };
}
