import type { BroadcastSource } from '../../../schemas/api/broadcasts.ts';
import type { Actor } from '../shared/actor.ts';
import { AppError, badRequest } from '../shared/errors.ts';
import type { BroadcastRow } from './broadcasts.repo.ts';
import type { QuietHours } from './quiet-hours.ts';

export interface PlayableContent {
  playable(id: string): Playable | Promise<Playable>;
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
}
/** The quiet hours of every area the broadcast airs in, and what to do with an airing that falls in them. */
export interface QuietRule {
  quiet: QuietHours[];
  /** refuse (the default) or move the start to the first instant every airing is clear of them */
  onQuietHours?: 'refuse' | 'move';
}
export type TimingInput = Pick<BroadcastRow, 'startAt' | 'expiresAt' | 'level' | 'repeatCount' | 'repeatIntervalS' | 'contentId'>;

/** A ready content id for any source: synthesised, uploaded, or several joined into one programme. */
export async function resolveContent(source: BroadcastSource, title: string, actor: Actor, content: PlayableContent, speech: Speech, airsIn: string[]): Promise<string> {
  if ('relay' in source) throw new AppError(500, 'a relay has no stored content', 'body/source');
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
  await content.playable(id); // 404/409 before anything is written
  return id;
}

/**
 * When the airings will be, checked before anything is written: a "now" start gets the sync lead so a commune
 * starts in step; quiet hours hold everything but emergencies (refused, or the start moved past them); an order must
 * not expire before it starts. Repeats shorter than the programme run back to back, as on the devices.
 */
export function planTiming(row: TimingInput, c: Pick<Playable, 'durationMs'>, now: number, o: TimingOptions, rule: QuietRule = { quiet: [] }) {
  const asked = Math.max(row.startAt ?? 0, now + o.syncLeadMs);
  const step = Math.max(row.repeatIntervalS * 1000, c.durationMs);
  const airings = { count: row.repeatCount, step, durationMs: c.durationMs };
  const startAt = row.level === 'emergency' || !rule.quiet.length ? asked : clearOfQuiet(asked, airings, rule);
  const moved = startAt !== asked;
  const expiresAt = row.expiresAt ?? startAt + (row.repeatCount - 1) * step + c.durationMs + o.graceMs;
  if (expiresAt <= now || (moved && expiresAt <= startAt)) throw badRequest('the broadcast would expire before it starts', 'body/expiresAt');
  return { c, startAt, expiresAt, moved };
}

interface Airings {
  count: number;
  step: number;
  durationMs: number;
}

/** `asked` when no airing touches quiet hours; else the moved start, or a refusal naming the airing and that start. */
function clearOfQuiet(asked: number, a: Airings, rule: QuietRule): number {
  const next = firstClearStart(asked, a, rule.quiet);
  if (next === asked) return asked;
  if (next !== null && rule.onQuietHours === 'move') return next;
  const seq = Array.from({ length: a.count }, (_, i) => i).find((i) => hitOf(asked + i * a.step, a.durationMs, rule.quiet))!;
  const hit = hitOf(asked + seq * a.step, a.durationMs, rule.quiet)!;
  if (next === null) throw badRequest(`the ${a.count} airings cannot all fit outside quiet hours ${hit.q.label}; air fewer or closer together`, 'body/repeat');
  // The console reads this wording ("would fall in quiet hours", i18n messageText) and speaks the officer's language.
  const message = `airing ${seq + 1} would fall in quiet hours ${hit.q.label}; only emergencies air then`;
  const problem = { kind: 'quiet_hours', message, field: 'body/startAt', at: new Date(hit.at).toISOString(), nextAllowed: new Date(next).toISOString() };
  throw badRequest(message, 'body/startAt', [problem]);
}

/** The quiet hours an airing [from, from + durationMs) runs into and the first instant it is inside them, if any. */
function hitOf(from: number, durationMs: number, quiet: QuietHours[]): { q: QuietHours; at: number } | undefined {
  for (const q of quiet) {
    const [w] = q.intervals(from, from + Math.max(1, durationMs));
    if (w) return { q, at: Math.max(from, w.from) };
  }
  return undefined;
}

/** Quiet hours repeat daily: with no clear start within two days of the asked one (a DST day included) there is none. */
const SEARCH_MS = 2 * 86_400_000;

/**
 * The first start at or after `from` from which every airing is clear of every window. Each pass moves the start
 * just past the window an airing runs into (no earlier start can clear that one), so the first clear start found is
 * the earliest; null when the repeats span more than the gaps between windows allow.
 */
function firstClearStart(from: number, a: Airings, quiet: QuietHours[]): number | null {
  for (let t = from; t <= from + SEARCH_MS; ) {
    let moved = t;
    for (let seq = 0; seq < a.count; seq++) {
      for (const q of quiet) moved = Math.max(moved, q.nextAllowed(t + seq * a.step, a.durationMs) - seq * a.step);
    }
    if (moved === t) return t;
    t = moved;
  }
  return null;
}
