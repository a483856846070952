/**
 * Broadcasting, device side (protocol v1.1): the versioned manifest, group play orders, content, and a simulated
 * player that airs one programme at a time with the levels of Circular 39/2020/TT-BTTTT. No audio: an airing is a
 * timer of `durationMs`. Every state change of an airing is reported on `airing` through the outbox.
 *
 * Times in items are server time. The device converts them with its measured clock offset θ (server − device):
 * device target = server target − θ. A start is driven by a timer armed for that device time; when the timer fires
 * late (or content arrives late) by up to the sync window, the player seeks by the lateness so the audio stays in
 * step with neighbouring clusters — which is also how firmware keeps a DAC in step with a timeline.
 *
 * Rules (docs/device-protocol.md, "Playback"):
 *  - emergency starts at once and preempts anything but another emergency; it plays at config.emergencyVolume;
 *  - priority waits for the current item to end, at most maxWaitS (then preempts a normal item, never an emergency);
 *    priority items that are due together air in `order` ascending, then by start time;
 *  - normal airs when nothing else does, at or after its time;
 *  - an interrupted airing follows its item's onPreempt: resume, restart, or drop (skipped / preempted);
 *  - nothing starts or resumes after expiresAt (skipped / expired; failed / content_missing if the file never came).
 */
import type { AiringReport, AiringState, GroupPlay, Level, Manifest, PlayItem } from '../../schemas/device-protocol/index.ts';
import type { DeviceClock } from './clock.ts';
import type { SimCounters } from './cluster-types.ts';
import { ContentStore, type ContentStoreOptions, type DownloadFailure } from './content.ts';
import type { Playing } from './device-state.ts';
import type { Logger } from './types.ts';

/** One airing start, for tests and benchmarks that measure synchronisation against true time. */
export interface PlaybackRecord {
  clusterId: string;
  itemId: string;
  broadcastId: string;
  seq: number;
  level: Level;
  /** Server time the airing was due (startAt + seq·step); null for an as-soon-as-possible airing. */
  targetMs: number | null;
  /** Where the audio started (> 0 when a late start seeks to stay in step). */
  positionMs: number;
  /** Device clock at the start. */
  deviceMs: number;
  /** The device's estimate of server time at the start (null without a measured offset). */
  serverMs: number | null;
  /**
   * True time (clock.trueNow()) at which position 0 of this airing plays: for an on-time start, or a late one that
   * seeks, the moment the device believed server time reached `targetMs`. Start error = trueStartMs − targetMs
   * against a server on true time.
   */
  trueStartMs: number;
  /** How late (device ms) the start was against the target when it happened; negative = early, compensated. */
  lateMs: number;
}

export interface NowPlaying {
  item: PlayItem;
  seq: number;
  level: Level;
  positionMs: number;
  /** Volume the airing plays at. */
  volume: number | null;
}

export interface PlaybackOptions {
  /** A start this late (or less) seeks to stay in sync; later ones play from the start. Default 2000. */
  syncWindowMs?: number;
}

export interface PlaybackHost {
  clusterId: string;
  clock: DeviceClock;
  log: Logger;
  counters: SimCounters;
  /** server − device: the latest measured offset (kept across reboots), or null if none was ever measured. */
  offset(): number | null;
  /** The first time sync is under way: timed starts and expiry wait for it rather than trust the raw clock. */
  syncPending(): boolean;
  emergencyVolume(): number;
  report(r: AiringReport): void;
  requestManifest(version: number): void;
  setPlaying(p: Playing, volume: number | null): void;
  itemAccepted(item: PlayItem): void;
  started(rec: PlaybackRecord): void;
}

interface Held {
  item: PlayItem;
  arrival: number;
  /** Next airing that is not over yet (finished, failed, skipped, cancelled). */
  next: number;
  /** Server time of airing 0, for the later airings of an item without startAt. */
  base: number | null;
  /** An interrupted airing waiting to resume (or restart). */
  suspended: { seq: number; positionMs: number } | null;
  /** When the due airing began waiting behind another (maxWaitS counts from here). */
  readySince: number | null;
  /** sha256 for which `downloaded` was reported. */
  downloaded: string | null;
  /** Last failure reported, so a retry loop does not repeat the same report. */
  failReason: string | null;
  /** Arrived after its expiresAt: reported, never fetched or aired. */
  arrivedExpired: boolean;
}

interface Current {
  h: Held;
  seq: number;
  startDev: number;
  pos0: number;
  volume: number | null;
  end: NodeJS.Timeout;
}

interface Due {
  h: Held;
  seq: number;
  target: number | null;
  resume: boolean;
}

const RANK: Record<Level, number> = { normal: 0, priority: 1, emergency: 2 };
/** A timer that fires this early (device ms) still starts; the DAC would wait the difference. */
const EARLY_MS = 2;
/** Longest Node timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const TOMBSTONE_GRACE_MS = 3_600_000;
const REMOVED_KEEP_MS = 48 * 3_600_000;

/** Shared by every cluster until its first item arrives (never written to). */
const NO_ITEMS: Map<string, Held> = new Map();

const stepOf = (item: PlayItem) => Math.max(item.repeat.intervalS * 1000, item.content.durationMs);

export class Playback {
  readonly content: ContentStore;
  private version = 0;
  private held = NO_ITEMS;
  /** Item ids that must never air (again): finished, expired, removed or cancelled; value = forget after (device ms). */
  private tombstones: Map<string, number> | null = null;
  private cancelledBroadcasts: Map<string, number> | null = null;
  private cur: Current | null = null;
  private wake: NodeJS.Timeout | null = null;
  private active = false;
  private ticking = false;
  private again = false;
  private arrivals = 0;
  private reportSeq = 0;
  private readonly reportBase: string;
  private readonly syncWindowMs: number;

  constructor(
    private readonly h: PlaybackHost,
    content: ContentStoreOptions,
    opts: PlaybackOptions = {},
  ) {
    this.syncWindowMs = opts.syncWindowMs ?? 2000;
    // Unique for the device's life: the power-on instant (ms, base 36) and a counter that survives reboots.
    this.reportBase = Math.floor(h.clock.trueNow()).toString(36);
    this.content = new ContentStore(content, {
      log: h.log,
      counters: h.counters,
      needed: (sha) => this.needed(sha),
      result: (sha, ok, reason, detail) => this.onContent(sha, ok, reason, detail),
    });
  }

  // ---- observability -----------------------------------------------------------------------------------------

  get manifestVersion(): number {
    return this.version;
  }

  /** Items held (not yet over), in arrival order. */
  get items(): PlayItem[] {
    return [...this.held.values()].map((x) => x.item);
  }

  get nowPlaying(): NowPlaying | null {
    const c = this.cur;
    if (!c) return null;
    return { item: c.h.item, seq: c.seq, level: c.h.item.level, positionMs: Math.round(this.position(c)), volume: c.volume };
  }

  // ---- inbound -----------------------------------------------------------------------------------------------

  onManifest(m: Manifest): void {
    if (m.baseVersion === 0) {
      // A full snapshot: drop every item not listed.
      const listed = new Set(m.items.map((i) => i.id));
      for (const x of [...this.held.values()]) if (!listed.has(x.item.id)) this.remove(x, 'removed');
      for (const item of m.items) this.accept(item);
    } else if (m.baseVersion > this.version) {
      // One update was missed: applying this one would leave a hole. Ask for what changed since what we hold.
      this.h.counters.manifestGaps++;
      this.h.requestManifest(this.version);
      return;
    } else if (m.version <= this.version) {
      // Already applied (a redelivery) or older than what we hold.
      this.h.counters.manifestsIgnored++;
      return;
    } else {
      for (const item of m.items) this.accept(item);
      for (const id of m.removed) {
        const x = this.held.get(id);
        if (x) this.remove(x, 'removed');
        else if (!this.tombstones?.has(id)) (this.tombstones ??= new Map()).set(id, this.h.clock.now() + REMOVED_KEEP_MS);
      }
    }
    this.version = m.version;
    this.h.counters.manifestsApplied++;
    this.prune();
    this.tick();
  }

  onGroupPlay(g: GroupPlay): void {
    if (g.op === 'play') this.accept(g.item);
    else {
      (this.cancelledBroadcasts ??= new Map()).set(g.broadcastId, this.h.clock.now() + REMOVED_KEEP_MS);
      for (const x of [...this.held.values()]) if (x.item.broadcastId === g.broadcastId) this.remove(x, 'cancelled');
    }
    this.tick();
  }

  /** Add an item or update the one with its id. An id already aired (or dropped) is never aired again. */
  private accept(item: PlayItem): void {
    if (this.tombstones?.has(item.id) || this.cancelledBroadcasts?.has(item.broadcastId)) {
      this.h.counters.itemsIgnored++;
      return;
    }
    const x = this.held.get(item.id);
    if (x) {
      const oldSha = x.item.content.sha256;
      x.item = item;
      if (oldSha !== item.content.sha256) {
        x.downloaded = null;
        x.failReason = null;
        this.releaseIfUnused(oldSha);
        if (!x.arrivedExpired) this.fetch(x);
      }
      if (x.next >= item.repeat.count && this.cur?.h !== x && !x.suspended) this.retire(x);
      this.h.itemAccepted(item);
      return;
    }
    const n: Held = {
      item,
      arrival: ++this.arrivals,
      next: 0,
      base: null,
      suspended: null,
      readySince: null,
      downloaded: null,
      failReason: null,
      arrivedExpired: false,
    };
    if (this.held === NO_ITEMS) this.held = new Map();
    this.held.set(item.id, n);
    this.h.counters.itemsReceived++;
    this.report(n, 0, 'received');
    const t = this.time();
    if (t.trusted && t.s > item.expiresAt) n.arrivedExpired = true;
    else this.fetch(n);
    this.h.itemAccepted(item);
  }

  private fetch(x: Held): void {
    const { sha256, size } = x.item.content;
    this.content.ensure(sha256, size);
    if (this.content.has(sha256)) this.onContent(sha256, true);
  }

  private remove(x: Held, reason: 'removed' | 'cancelled'): void {
    const c = this.cur;
    if (c?.h === x) {
      const pos = this.position(c);
      this.stopCurrent();
      this.report(x, c.seq, 'cancelled', { positionMs: pos, reason });
      this.h.setPlaying(null, null);
    } else if (x.suspended) {
      this.report(x, x.suspended.seq, 'cancelled', { positionMs: x.suspended.positionMs, reason });
    }
    x.suspended = null;
    this.retire(x);
  }

  // ---- content -----------------------------------------------------------------------------------------------

  private needed(sha: string): boolean {
    const t = this.time();
    for (const x of this.held.values()) {
      if (x.item.content.sha256 !== sha || x.arrivedExpired) continue;
      if (!t.trusted || t.s <= x.item.expiresAt) return true;
    }
    return false;
  }

  private onContent(sha: string, ok: boolean, reason?: DownloadFailure, detail?: string): void {
    for (const x of this.held.values()) {
      if (x.item.content.sha256 !== sha || x.arrivedExpired) continue;
      if (ok) {
        if (x.downloaded === sha) continue;
        x.downloaded = sha;
        x.failReason = null;
        this.report(x, 0, 'downloaded');
      } else if (reason && x.failReason !== reason) {
        x.failReason = reason;
        this.h.log.debug({ clusterId: this.h.clusterId, itemId: x.item.id, reason, detail }, 'content not (yet) fetched');
        this.report(x, 0, 'failed', { reason });
      }
    }
    if (ok) this.tick();
  }

  private releaseIfUnused(sha: string): void {
    for (const x of this.held.values()) if (x.item.content.sha256 === sha) return;
    if (this.cur?.h.item.content.sha256 === sha) return;
    this.content.drop(sha);
  }

  // ---- power -------------------------------------------------------------------------------------------------

  /** Boot: carry on with what flash holds. */
  powerUp(): void {
    this.active = true;
    this.content.resume();
    this.tick();
  }

  /**
   * Reboot: the airing in progress is interrupted (reported, then resumed, restarted or dropped after boot as its
   * onPreempt says). With `silent` (power off for good, or a clean stop) nothing is reported.
   */
  powerDown(silent = false): void {
    const c = this.cur;
    if (c) {
      if (silent) this.stopCurrent();
      else this.interrupt(c, 'reboot');
      this.h.setPlaying(null, null);
    }
    this.active = false;
    this.clearWake();
    this.content.pause();
  }

  /** The measured offset changed: targets move with it. */
  onOffset(): void {
    this.tick();
  }

  // ---- the player --------------------------------------------------------------------------------------------

  /** Server time now as the device believes it; `trusted` false while a first sync is pending. */
  private time(): { s: number; trusted: boolean } {
    const off = this.h.offset();
    const dev = this.h.clock.now();
    if (off !== null) return { s: dev + off, trusted: true };
    return { s: dev, trusted: !this.h.syncPending() };
  }

  private serverTs(): number | null {
    const off = this.h.offset();
    return off === null ? null : Math.round((this.h.clock.now() + off) * 10) / 10;
  }

  private targetOf(x: Held, seq: number): number | null {
    const step = stepOf(x.item);
    if (x.item.startAt !== null) return x.item.startAt + seq * step;
    if (seq === 0 || x.base === null) return null;
    return x.base + seq * step;
  }

  private position(c: Current): number {
    return Math.min(c.h.item.content.durationMs, Math.max(0, c.pos0 + (this.h.clock.now() - c.startDev)));
  }

  tick(): void {
    if (!this.active) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      let guard = 0;
      do {
        this.again = false;
        this.step();
      } while (this.again && ++guard < 100);
    } finally {
      this.ticking = false;
    }
    this.arm();
  }

  private step(): void {
    const t = this.time();
    if (t.trusted) {
      for (const x of [...this.held.values()]) if (x !== this.cur?.h && (t.s > x.item.expiresAt || x.arrivedExpired)) this.expire(x, t.s);
    }
    const due: Due[] = [];
    for (const x of this.held.values()) {
      if (x === this.cur?.h) continue;
      const d = this.dueOf(x, t);
      if (d) due.push(d);
    }
    if (!due.length) return;
    due.sort((a, b) => this.compare(a, b));
    const best = due[0];
    const c = this.cur;
    if (!c) return this.start(best, t.s);
    // Everything that is due waits from now on (maxWaitS counts from its due time).
    for (const d of due) d.h.readySince ??= d.target ?? t.s;
    const curLevel = c.h.item.level;
    if (curLevel === 'emergency') return;
    const level = best.h.item.level;
    if (level === 'emergency') {
      this.interrupt(c, 'preempted');
      return this.start(best, t.s);
    }
    if (level === 'priority' && curLevel === 'normal') {
      // The wait of any priority item is bounded by its maxWaitS; once one runs out, the normal item yields and the
      // priority items air in their order.
      const outOfPatience = due.some((d) => d.h.item.level === 'priority' && d.h.item.maxWaitS !== undefined && t.s >= d.h.readySince! + d.h.item.maxWaitS * 1000 - EARLY_MS);
      if (outOfPatience) {
        this.interrupt(c, 'preempted');
        return this.start(best, t.s);
      }
    }
  }

  /** The airing of `x` that could start now, if any. */
  private dueOf(x: Held, t: { s: number; trusted: boolean }): Due | null {
    if (x.suspended) return { h: x, seq: x.suspended.seq, target: null, resume: true };
    if (x.arrivedExpired || x.next >= x.item.repeat.count) return null;
    if (!this.content.has(x.item.content.sha256)) return null;
    const target = this.targetOf(x, x.next);
    if (target === null) return { h: x, seq: x.next, target, resume: false };
    if (!t.trusted || t.s < target - EARLY_MS) return null;
    return { h: x, seq: x.next, target, resume: false };
  }

  private compare(a: Due, b: Due): number {
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

  private start(d: Due, s: number): void {
    const x = d.h;
    const item = x.item;
    const clock = this.h.clock;
    const trueNow = clock.trueNow();
    const deviceNow = clock.at(trueNow);
    x.readySince = null;
    let pos: number;
    if (d.resume) {
      pos = x.suspended!.positionMs;
      x.suspended = null;
      this.report(x, d.seq, 'resumed', { positionMs: pos });
    } else {
      // Synchronised items seek by their lateness (within the sync window) so neighbours stay in step.
      const late = item.startAt !== null && d.target !== null ? s - d.target : 0;
      const seek = late <= this.syncWindowMs && late < item.content.durationMs;
      pos = seek && late > 0 ? late : 0;
      if (d.seq === 0 && x.base === null) x.base = d.target ?? s;
      this.report(x, d.seq, 'started', { positionMs: pos });
      this.h.started({
        clusterId: this.h.clusterId,
        itemId: item.id,
        broadcastId: item.broadcastId,
        seq: d.seq,
        level: item.level,
        targetMs: d.target,
        positionMs: Math.round(pos),
        deviceMs: Math.round(deviceNow),
        serverMs: this.h.offset() === null ? null : s,
        trueStartMs: seek ? trueNow - late : trueNow,
        lateMs: late,
      });
    }
    const volume = item.level === 'emergency' ? this.h.emergencyVolume() : item.volume;
    const c: Current = {
      h: x,
      seq: d.seq,
      startDev: deviceNow,
      pos0: pos,
      volume,
      end: setTimeout(() => this.finish(c), Math.max(0, item.content.durationMs - pos)),
    };
    this.cur = c;
    this.h.setPlaying({ kind: 'content', ref: item.id, ...(item.title !== undefined ? { title: item.title } : {}) }, volume);
  }

  private finish(c: Current): void {
    if (this.cur !== c) return;
    this.cur = null;
    const x = c.h;
    this.report(x, c.seq, 'finished', { positionMs: x.item.content.durationMs });
    this.h.setPlaying(null, null);
    this.advance(x, c.seq);
    this.tick();
  }

  /** Airing `seq` of `x` is over: move to the next one, or retire the item after its last. */
  private advance(x: Held, seq: number): void {
    x.next = Math.max(x.next, seq + 1);
    if (seq === 0 && x.base === null) x.base = this.time().s;
    if (x.next >= x.item.repeat.count && !x.suspended) this.retire(x);
  }

  /** A higher level (or a reboot) takes the air: report, then follow the item's onPreempt. */
  private interrupt(c: Current, why: 'preempted' | 'reboot'): void {
    const pos = this.position(c);
    this.stopCurrent();
    const x = c.h;
    this.report(x, c.seq, 'interrupted', { positionMs: pos });
    switch (x.item.onPreempt) {
      case 'resume':
        x.suspended = { seq: c.seq, positionMs: pos };
        break;
      case 'restart':
        x.suspended = { seq: c.seq, positionMs: 0 };
        break;
      case 'drop':
        this.report(x, c.seq, 'skipped', { reason: why });
        this.advance(x, c.seq);
        break;
    }
  }

  private stopCurrent(): void {
    const c = this.cur;
    if (!c) return;
    clearTimeout(c.end);
    this.cur = null;
  }

  /** expiresAt has passed: every airing not yet over is reported and the item is dropped. */
  private expire(x: Held, s: number): void {
    const item = x.item;
    const missing = !x.arrivedExpired && !this.content.has(item.content.sha256);
    for (let seq = x.next; seq < item.repeat.count; seq++) {
      if (x.suspended?.seq === seq) {
        this.report(x, seq, 'skipped', { positionMs: x.suspended.positionMs, reason: 'expired' });
        continue;
      }
      const target = this.targetOf(x, seq);
      const wasDue = target === null || (target <= item.expiresAt && target <= s);
      if (missing && wasDue) this.report(x, seq, 'failed', { reason: 'content_missing' });
      else this.report(x, seq, 'skipped', { reason: 'expired' });
    }
    x.suspended = null;
    x.next = item.repeat.count;
    this.retire(x);
  }

  /** Forget an item for good (its id stays known until well after expiry, so it is never aired again). */
  private retire(x: Held): void {
    if (this.held.get(x.item.id) !== x) return;
    this.held.delete(x.item.id);
    const off = this.h.offset() ?? 0;
    (this.tombstones ??= new Map()).set(x.item.id, x.item.expiresAt - off + TOMBSTONE_GRACE_MS);
    this.releaseIfUnused(x.item.content.sha256);
  }

  private prune(): void {
    const now = this.h.clock.now();
    for (const m of [this.tombstones, this.cancelledBroadcasts]) if (m) for (const [id, until] of m) if (until < now) m.delete(id);
  }

  /** Sleep until the next thing that can change the decision: a target, an expiry, a maxWaitS deadline. */
  private arm(): void {
    this.clearWake();
    if (!this.active) return;
    const t = this.time();
    if (!t.trusted) return; // onOffset() wakes the player when the first sync ends
    let next = Infinity;
    const curNormal = this.cur?.h.item.level === 'normal';
    for (const x of this.held.values()) {
      // The airing on air finishes whatever its expiry; the item is judged when it ends.
      if (x === this.cur?.h) continue;
      next = Math.min(next, x.item.expiresAt + 1);
      if (x.suspended) continue;
      if (x.next < x.item.repeat.count && this.content.has(x.item.content.sha256)) {
        const target = this.targetOf(x, x.next);
        if (target !== null && target > t.s) next = Math.min(next, target);
      }
      if (curNormal && x.item.level === 'priority' && x.readySince !== null && x.item.maxWaitS !== undefined) {
        const deadline = x.readySince + x.item.maxWaitS * 1000;
        if (deadline > t.s) next = Math.min(next, deadline);
      }
    }
    if (next === Infinity) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - t.s));
    this.wake = setTimeout(() => {
      this.wake = null;
      this.tick();
    }, delay);
  }

  private clearWake(): void {
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
  }

  // ---- reports -----------------------------------------------------------------------------------------------

  private report(x: Held, seq: number, state: AiringState, extra: { positionMs?: number; reason?: string } = {}): void {
    const r: AiringReport = {
      id: `a-${this.reportBase}-${(++this.reportSeq).toString(36)}`,
      itemId: x.item.id,
      broadcastId: x.item.broadcastId,
      seq,
      state,
      ts: this.h.clock.nowMs(),
      serverTs: this.serverTs(),
      ...(extra.positionMs !== undefined ? { positionMs: Math.round(extra.positionMs) } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
    };
    this.h.report(r);
  }

  /** Power off for good: no timers, no downloads. */
  halt(): void {
    this.powerDown(true);
  }
}
