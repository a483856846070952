/**
 * What airs when, with the levels of Circular 39/2020/TT-BTTTT (docs/device-protocol.md §10.4–§10.6): on every
 * change (an item, a file, an offset, the end of an airing) and at the next instant that can change the decision,
 * the scheduler expires what is over, finds the airings that are due (airing-rules.ts) and tells the player
 * (player.ts) what to start or interrupt.
 *
 * Rules:
 *  - emergency starts at once and preempts anything but another emergency; it plays at config.emergencyVolume;
 *  - priority waits for the current item to end, at most maxWaitS (then preempts a normal item, never an emergency);
 *    priority items that are due together air in `order` ascending, then by start time;
 *  - normal airs when nothing else does, at or after its time;
 *  - an interrupted airing follows its item's onPreempt: resume, restart, or drop (skipped / preempted);
 *  - nothing starts or resumes after expiresAt (skipped / expired; failed / content_missing if the file never came).
 */
import type { AiringReporter } from './airing-report.ts';
import { compareDue, contenders, dueOf, nextWake, outOfPatience, serverNow, targetOf, type Due } from './airing-rules.ts';
import type { ContentStore } from './content.ts';
import type { ManifestStore } from './manifest-store.ts';
import type { Held, PlaybackHost } from './playback-types.ts';
import { Player, type PlayerOwner } from './player.ts';
import type { StreamHttpOptions } from './stream-client.ts';

/** Longest Node timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class AiringScheduler implements PlayerOwner {
  readonly player: Player;
  private wake: NodeJS.Timeout | null = null;
  private active = false;
  private ticking = false;
  private again = false;

  constructor(
    private readonly h: PlaybackHost,
    private readonly store: ManifestStore,
    private readonly content: ContentStore,
    private readonly reporter: AiringReporter,
    syncWindowMs: number,
    http: StreamHttpOptions,
  ) {
    this.player = new Player(h, reporter, this, syncWindowMs, http);
  }

  /** Boot: decisions resume (the caller ticks once content has resumed too). */
  powerUp(): void {
    this.active = true;
  }

  /** Reboot, or (`silent`) power off for good: the player stops, no decision is taken until powerUp. */
  powerDown(silent: boolean): void {
    this.player.powerDown(silent);
    this.active = false;
    this.clearWake();
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
    const t = serverNow(this.h);
    if (t.trusted) {
      for (const x of [...this.store.values()]) if (x !== this.player.airing && (t.s > x.item.expiresAt || x.arrivedExpired)) this.expire(x, t.s);
    }
    const onAir = this.player.airing;
    const due: Due[] = [];
    for (const x of this.store.values()) {
      if (x === onAir) continue;
      const d = dueOf(x, t, this.content);
      if (d) due.push(d);
    }
    if (!due.length) return;
    if (!onAir) return this.player.start(contenders(due, this.player.freeSince, t.s)[0]!);
    due.sort(compareDue);
    const best = due[0]!;
    // Everything that is due waits from now on (maxWaitS counts from its due time).
    for (const d of due) d.h.readySince ??= d.target ?? t.s;
    const curLevel = onAir.item.level;
    if (curLevel === 'emergency') return;
    const level = best.h.item.level;
    if (level === 'emergency') {
      this.player.interrupt('preempted');
      return this.player.start(best);
    }
    // The wait of any priority item is bounded by its maxWaitS; once one runs out, the normal item yields and the
    // priority items air in their order.
    if (level === 'priority' && curLevel === 'normal' && outOfPatience(due, t.s)) {
      this.player.interrupt('preempted');
      return this.player.start(best);
    }
  }

  /** Airing `seq` of `x` is over: move to the next one, or retire the item after its last. */
  advance(x: Held, seq: number): void {
    x.next = Math.max(x.next, seq + 1);
    if (seq === 0 && x.base === null) x.base = serverNow(this.h).s;
    if (x.next >= x.item.repeat.count && !x.suspended) this.retire(x);
  }

  /** expiresAt has passed: every airing not yet over is reported and the item is dropped. */
  private expire(x: Held, s: number): void {
    const item = x.item;
    // A stream item that never went on air has nothing missing: it is skipped (the player fails one that went on air).
    const missing = !x.arrivedExpired && !!item.content && !this.content.has(item.content.sha256);
    for (let seq = x.next; seq < item.repeat.count; seq++) {
      if (x.suspended?.seq === seq) {
        this.reporter.report(x, seq, 'skipped', { positionMs: x.suspended.positionMs, reason: 'expired' });
        continue;
      }
      const target = targetOf(x, seq);
      const wasDue = target === null || (target <= item.expiresAt && target <= s);
      if (missing && wasDue) this.reporter.report(x, seq, 'failed', { reason: 'content_missing' });
      else this.reporter.report(x, seq, 'skipped', { reason: 'expired' });
    }
    x.suspended = null;
    x.next = item.repeat.count;
    this.retire(x);
  }

  /** The item was removed or its broadcast cancelled: whatever of it airs or waits is cancelled, and it goes. */
  remove(x: Held, reason: 'removed' | 'cancelled'): void {
    this.player.cancel(x, reason);
    x.suspended = null;
    this.retire(x);
  }

  /** Forget an item for good (its id stays known until well after expiry, so it is never aired again). */
  retire(x: Held): void {
    if (!this.store.forget(x)) return;
    if (x.item.content) this.releaseIfUnused(x.item.content.sha256);
  }

  /** No item held and nothing on air plays `sha` any more: the file goes. */
  releaseIfUnused(sha: string): void {
    if (this.store.uses(sha)) return;
    if (this.player.airing?.item.content?.sha256 === sha) return;
    this.content.drop(sha);
  }

  /** Sleep until the next thing that can change the decision: a target, an expiry, a maxWaitS deadline. */
  private arm(): void {
    this.clearWake();
    if (!this.active) return;
    const t = serverNow(this.h);
    if (!t.trusted) return; // onOffset() wakes the player when the first sync ends
    const next = nextWake(this.store.values(), this.player.airing, t.s, this.content);
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
}
