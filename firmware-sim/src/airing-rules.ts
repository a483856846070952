/**
 * When an airing is due and which due airing goes first (docs/device-protocol.md §10.4, §10.5). Pure functions of
 * the items held and the device's estimate of server time: no state, no timers — airing-scheduler.ts acts on them.
 *
 * Times in items are server time. The device converts them with its measured clock offset θ (server − device):
 * device target = server target − θ.
 */
import type { Level, PlayItem } from '../../schemas/device-protocol/index.ts';
import type { Held, PlaybackHost } from './playback-types.ts';

/** Server time now as the device believes it; `trusted` false while a first sync is pending. */
export interface ServerNow {
  s: number;
  trusted: boolean;
}

/** An airing that could start now. */
export interface Due {
  h: Held;
  seq: number;
  target: number | null;
  resume: boolean;
}

/** Where the player looks up whether an item's file is held. */
interface Files {
  has(sha: string): boolean;
}

const RANK: Record<Level, number> = { normal: 0, priority: 1, emergency: 2 };
/** A timer that fires this early (device ms) still starts; the DAC would wait the difference. */
export const EARLY_MS = 2;

export function serverNow(h: Pick<PlaybackHost, 'offset' | 'clock' | 'syncPending'>): ServerNow {
  const off = h.offset();
  const dev = h.clock.now();
  if (off !== null) return { s: dev + off, trusted: true };
  return { s: dev, trusted: !h.syncPending() };
}

/** A stream item (repeat.count 1) has no length of its own but its durationMs, if any. */
const stepOf = (item: PlayItem) => Math.max(item.repeat.intervalS * 1000, item.content?.durationMs ?? item.stream?.durationMs ?? 0);

/** The item can air as far as what it needs is concerned: its file is held, or it is a stream (nothing to fetch). */
export const ready = (x: Held, files: Files) => (x.item.content ? files.has(x.item.content.sha256) : !!x.item.stream);

/** Server time airing `seq` of `x` is due: startAt + seq·step, or after airing 0 for an item without startAt. */
export function targetOf(x: Held, seq: number): number | null {
  const step = stepOf(x.item);
  if (x.item.startAt !== null) return x.item.startAt + seq * step;
  if (seq === 0 || x.base === null) return null;
  return x.base + seq * step;
}

/** The airing of `x` that could start now, if any. */
export function dueOf(x: Held, t: ServerNow, files: Files): Due | null {
  if (x.suspended) return { h: x, seq: x.suspended.seq, target: null, resume: true };
  if (x.arrivedExpired || x.next >= x.item.repeat.count) return null;
  if (!ready(x, files)) return null;
  const target = targetOf(x, x.next);
  if (target === null) return { h: x, seq: x.next, target, resume: false };
  if (!t.trusted || t.s < target - EARLY_MS) return null;
  return { h: x, seq: x.next, target, resume: false };
}

/** Order of due airings: level, then an interrupted one first, then (priority) `order`, then time, then arrival. */
export function compareDue(a: Due, b: Due): number {
  const la = a.h.item.level;
  const lb = b.h.item.level;
  if (la !== lb) return RANK[lb] - RANK[la];
  // An interrupted airing goes back on air before anything new of its level.
  if (a.resume !== b.resume) return a.resume ? -1 : 1;
  if (la === 'priority') {
    const oa = a.h.item.order ?? Number.MAX_SAFE_INTEGER;
    const ob = b.h.item.order ?? Number.MAX_SAFE_INTEGER;
    if (oa !== ob) return oa - ob;
  }
  const ta = a.target ?? Number.MAX_SAFE_INTEGER;
  const tb = b.target ?? Number.MAX_SAFE_INTEGER;
  if (ta !== tb) return ta - tb;
  return a.h.arrival - b.h.arrival;
}

/**
 * The due airings that compete for a free air. The choice belongs to the moment the air was free and the first of
 * them came due, not to when the scheduler got round to it: on a busy device a late timer must not let an airing
 * that came due 20 ms later win over one that was already due then (it would have waited behind it), unless it
 * would have taken the air from it anyway — an emergency over a lower level, a priority whose maxWaitS ran out over
 * a normal one. `freeSince`: server time the air became free (−Infinity since boot).
 */
export function contenders(due: Due[], freeSince: number, s: number): Due[] {
  const at = (d: Due) => (d.resume || d.target === null ? -Infinity : d.target);
  const decidedAt = Math.max(freeSince, Math.min(...due.map(at)));
  const onTime = due.filter((d) => at(d) <= decidedAt + EARLY_MS).sort(compareDue);
  const lead = onTime[0]!.h.item.level;
  const takesOver = (d: Due) =>
    RANK[d.h.item.level] > RANK[lead] &&
    (d.h.item.level === 'emergency' || (d.h.item.level === 'priority' && d.h.item.maxWaitS !== undefined && s >= at(d) + d.h.item.maxWaitS * 1000 - EARLY_MS));
  return [...onTime, ...due.filter((d) => at(d) > decidedAt + EARLY_MS && takesOver(d))].sort(compareDue);
}

/** Some due priority item has waited its maxWaitS (counted from `readySince`) at server time `s`. */
export function outOfPatience(due: Due[], s: number): boolean {
  return due.some((d) => d.h.item.level === 'priority' && d.h.item.maxWaitS !== undefined && s >= d.h.readySince! + d.h.item.maxWaitS * 1000 - EARLY_MS);
}

/**
 * The next server time that can change the player's decision: a target, an expiry, a maxWaitS deadline (Infinity
 * if none). `onAir` is the item on air, which finishes whatever its expiry: it is judged when it ends.
 */
export function nextWake(items: Iterable<Held>, onAir: Held | undefined, s: number, files: Files): number {
  let next = Infinity;
  const curNormal = onAir?.item.level === 'normal';
  for (const x of items) {
    if (x === onAir) continue;
    next = Math.min(next, x.item.expiresAt + 1);
    if (x.suspended) continue;
    if (x.next < x.item.repeat.count && ready(x, files)) {
      const target = targetOf(x, x.next);
      if (target !== null && target > s) next = Math.min(next, target);
    }
    if (curNormal && x.item.level === 'priority' && x.readySince !== null && x.item.maxWaitS !== undefined) {
      const deadline = x.readySince + x.item.maxWaitS * 1000;
      if (deadline > s) next = Math.min(next, deadline);
    }
  }
  return next;
}
