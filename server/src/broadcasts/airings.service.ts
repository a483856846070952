import type { ServerAiringReason } from '../../../schemas/api/broadcasts.ts';
import { WAITING_LISTED, type DeliverySummary, type WaitingReason } from '../../../schemas/api/broadcasts.ts';
import type { AiringReport, AiringState } from '../../../schemas/device-protocol/playback.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { TERMINAL_STATES, type AiringProgress, type AiringsRepo } from './airings.repo.ts';

/** How far along an airing is; a report never moves it backwards (reports can arrive out of order after an outage). */
const RANK: Record<string, number> = { pending: 0, received: 1, downloaded: 2, started: 3, interrupted: 4, resumed: 4, finished: 6, failed: 5, skipped: 5, cancelled: 5 };
/** Reports kept in the log that do not move an airing: an underrun leaves it on air. */
const LOG_ONLY = new Set(['underrun']);
const TERMINAL = new Set(TERMINAL_STATES);
export const isTerminal = (s: string) => TERMINAL.has(s);
/** What the summary needs to know of a cluster besides its airings: its name and whether it is connected. */
export interface ClusterLookup {
  name(clusterId: string): string;
  online(clusterId: string): boolean;
  /** When an offline cluster was last connected (epoch ms), if known. */
  offlineSince(clusterId: string): number | null;
}
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Reports committed together: one SQLite commit costs more than a hundred of them inside it. */
const BATCH = 1000;

const byName = new Intl.Collator('vi', { numeric: true });
const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Queued {
  clusterId: string;
  report: AiringReport;
  receivedAt: number;
  done: (applied: boolean) => void;
  fail: (err: unknown) => void;
}

/** The airing log: one row per (broadcast, cluster, repeat) fed by proof-of-play reports. */
export class AiringsService {
  private queue: Queued[] = [];
  private flushing = false;

  constructor(
    private repo: AiringsRepo,
    private bus: Bus,
    private clock: Clock,
    /** Runs deferred writes of this log (a fan-out's plan) before anything reads or moves it. */
    private settle: () => void = () => undefined,
  ) {}

  /** Creates pending airings for every targeted cluster and repeat. */
  plan(broadcastId: string, rows: { clusterId: string; outputs: number[] | null; scheduledAt: (seq: number) => number }[], count: number): void {
    const now = this.clock.now();
    const batch = [];
    for (const r of rows) for (let seq = 0; seq < count; seq++) batch.push({ broadcastId, clusterId: r.clusterId, seq, state: 'pending', outputs: r.outputs, scheduledAt: r.scheduledAt(seq), updatedAt: now });
    this.repo.insertPlanned(batch);
  }

  /**
   * Stores a report once (by its id) and advances the airing. Returns false for a duplicate (the same id re-sent
   * after a lost PUBACK, or a state the airing already records), or an unknown airing.
   */
  report(clusterId: string, r: AiringReport, receivedAt = this.clock.now()): boolean {
    this.settle();
    const applied = this.repo.transaction(() => this.apply(clusterId, r, receivedAt));
    if (applied) this.emit(clusterId, r);
    return applied;
  }

  /**
   * The device path: reports queue for a moment and commit together, each resolved once its batch is durable, so
   * the device's PUBACK still means "stored" (the router acknowledges when the promise settles).
   */
  submit(clusterId: string, report: AiringReport, receivedAt = this.clock.now()): Promise<boolean> {
    return new Promise((done, fail) => {
      this.queue.push({ clusterId, report, receivedAt, done, fail });
      if (this.queue.length === 1) setImmediate(() => this.flush());
      else if (this.queue.length >= BATCH) this.flush();
    });
  }

  /**
   * Commits what `submit` queued, a batch per transaction. Should one report throw, the batch is rolled back and
   * its reports committed one by one, so only that report fails (a savepoint per report would double the cost).
   */
  flush(): void {
    if (this.flushing || !this.queue.length) return;
    this.flushing = true;
    try {
      this.settle();
      while (this.queue.length) {
        const batch = this.queue.splice(0, BATCH);
        let outcome: (boolean | { err: unknown })[];
        try {
          outcome = this.repo.transaction(() => batch.map((q) => this.apply(q.clusterId, q.report, q.receivedAt)));
        } catch {
          outcome = batch.map((q) => {
            try {
              return this.repo.transaction(() => this.apply(q.clusterId, q.report, q.receivedAt));
            } catch (err) {
              return { err };
            }
          });
        }
        batch.forEach((q, i) => {
          const o = outcome[i];
          if (typeof o === 'boolean') {
            if (o) this.emit(q.clusterId, q.report);
            q.done(o);
          } else q.fail(o.err);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  private emit(clusterId: string, r: AiringReport): void {
    this.bus.emit('airing.report', { broadcastId: r.broadcastId, clusterId, seq: r.seq, state: r.state as AiringState });
  }

  private apply(clusterId: string, r: AiringReport, receivedAt: number): boolean {
    const stored = this.repo.insertReport({
      clusterId, reportId: r.id, broadcastId: r.broadcastId, seq: r.seq, state: r.state, deviceTs: r.ts, serverTs: r.serverTs ?? null, receivedAt, reason: r.reason ?? null, positionMs: r.positionMs ?? null,
    });
    if (!stored) return false;
    const row = this.repo.progress(r.broadcastId, clusterId, r.seq);
    if (!row) return false;
    if (LOG_ONLY.has(r.state)) return true;
    const at = Math.round(r.serverTs ?? receivedAt);
    const next: AiringProgress = { ...row };
    if (r.state === 'received') next.receivedAt = row.receivedAt ?? at;
    if (r.state === 'downloaded') next.downloadedAt = row.downloadedAt ?? at;
    if (r.state === 'started') next.startedAt = row.startedAt ?? at;
    // The row is the first complete airing of this seq: once finished it is final, and a device that airs the
    // item again (restarted while it was still unexpired) adds attempts to the report log (see attempts()), not
    // to this row — a later `finished` must not stretch the span, nor a later failure stick a reason to it.
    if (row.state === 'finished') {
      next.startedAt = r.state === 'started' && row.startedAt === null && (row.finishedAt === null || at <= row.finishedAt) ? at : row.startedAt;
    } else if (r.state === 'finished') {
      Object.assign(next, { finishedAt: at, state: 'finished', reason: null });
    } else if (r.state === 'started' && isTerminal(row.state) && row.state !== 'cancelled') {
      // Started after a failure (a retried download, a reboot mid-airing) or after the server closed it at
      // expiry: a new attempt with its own span, unless it is an older start arriving late.
      const ended = this.repo.lastEnd(clusterId, r.broadcastId, r.seq, r.id);
      if (ended === null || at > ended) Object.assign(next, { state: 'started', startedAt: at, finishedAt: null, reason: null });
    } else if ((RANK[r.state] ?? 0) >= (RANK[row.state] ?? 0) && !isTerminal(row.state)) {
      // Otherwise only move forward, and a terminal state is final.
      next.state = r.state;
      if (r.state === 'failed' || r.state === 'skipped' || r.state === 'cancelled') next.reason = r.reason ?? r.state;
    }
    // The same state again under another id (a device that reported it twice) is kept in the log but changes
    // nothing in the airing: not even updatedAt, and no event.
    const changed = (Object.keys(next) as (keyof AiringProgress)[]).some((k) => next[k] !== row[k]);
    if (!changed) return false;
    this.repo.setProgress(r.broadcastId, clusterId, r.seq, { ...next, updatedAt: receivedAt });
    return true;
  }

  /** A live or relay broadcast's clusters on air now and underruns so far. */
  liveCounts(broadcastId: string): { onAir: number; underruns: number } {
    this.settle();
    return this.repo.liveCounts(broadcastId);
  }

  /** Closes airings the server refuses on the device's behalf (a cluster whose firmware cannot play a stream). */
  refuse(broadcastId: string, clusterIds: string[], reason: string): void {
    const now = this.clock.now();
    this.repo.transaction(() => {
      for (const id of clusterIds) this.repo.close(broadcastId, id, 0, 'failed', reason, now);
    });
  }

  /** Marks every airing not yet over as cancelled (the devices report their own stop as well). */
  cancelOpen(broadcastId: string): void {
    this.settle();
    this.repo.closeOpen(broadcastId, 'cancelled', 'cancelled', this.clock.now());
  }

  /**
   * Closes, once the broadcast has expired, every airing its device never reported as over, with the reason why:
   * never received (`offline` or `not_received` by the cluster's presence now), received but not started
   * (`expired`), or started with no end reported by `unfinishedAfter` (`unfinished`). A late report can still
   * move such an airing on (a `finished` from a device's buffer always wins).
   */
  closeExpired(broadcastId: string, online: (clusterId: string) => boolean, unfinished: boolean): number {
    this.settle();
    const now = this.clock.now();
    let n = 0;
    this.repo.transaction(() => {
      for (const a of this.repo.open(broadcastId)) {
        let reason: ServerAiringReason;
        if (a.state === 'pending' && a.receivedAt === null) reason = online(a.clusterId) ? 'not_received' : 'offline';
        else if (a.startedAt === null) reason = 'expired';
        else if (unfinished) reason = 'unfinished';
        else continue;
        this.repo.close(broadcastId, a.clusterId, a.seq, 'failed', reason, now);
        n++;
      }
    });
    return n;
  }

  /**
   * Closes the airings that hold a broadcast open only because their cluster cannot be reached: the cluster is
   * offline now and the airing's time is over (its scheduled start plus the programme's length). Called once
   * every other airing is over, so a broadcast ends when every reachable cluster finished rather than at its expiry;
   * the item stays in the cluster's manifest, and if it reconnects before expiry and airs it, its reports move the
   * airing on as after any server-side close. Returns how many it closed; none when some airing still runs.
   */
  closeUnreachable(broadcastId: string, online: (clusterId: string) => boolean, durationMs: number): number {
    this.settle();
    const now = this.clock.now();
    const open = this.repo.open(broadcastId);
    if (!open.length || open.some((a) => online(a.clusterId) || (a.scheduledAt ?? Infinity) + durationMs > now)) return 0;
    this.repo.transaction(() => {
      for (const a of open) this.repo.close(broadcastId, a.clusterId, a.seq, 'failed', a.receivedAt === null && a.state === 'pending' ? 'offline' : 'went_offline', now);
    });
    return open.length;
  }

  /**
   * Every attempt at one airing as the device reported it: each `started` opens one (a device restarted while the
   * item was unexpired airs it again), the next terminal report closes it.
   */
  attempts(broadcastId: string, clusterId: string, seq: number): { startedAt: number; endedAt: number | null; state: string; reason: string | null }[] {
    this.settle();
    const out: { startedAt: number; endedAt: number | null; state: string; reason: string | null }[] = [];
    for (const r of this.repo.reportsOf(broadcastId, clusterId, seq)) {
      const cur = out.at(-1);
      if (r.state === 'started') out.push({ startedAt: Math.round(r.at), endedAt: null, state: 'started', reason: null });
      else if (cur && cur.endedAt === null && (isTerminal(r.state) || r.state === 'interrupted' || r.state === 'resumed')) {
        cur.state = r.state;
        if (isTerminal(r.state)) Object.assign(cur, { endedAt: Math.round(r.at), reason: r.reason });
      }
    }
    return out;
  }

  /** How many airings, finished, over (terminal), started — what moves a broadcast along, counted in SQL. */
  counts(broadcastId: string) {
    this.settle();
    return this.repo.counts(broadcastId);
  }

  /** Whether every airing of the broadcast finished (without reading them all). */
  allFinished(broadcastId: string): boolean {
    const c = this.counts(broadcastId);
    return c.total > 0 && c.finished === c.total;
  }

  planned(broadcastId: string): boolean {
    return this.counts(broadcastId).total > 0;
  }

  outcomes(broadcastIds: string[], clusterId?: string) {
    this.settle();
    return this.repo.outcomes(broadcastIds, clusterId);
  }

  list(broadcastId: string) {
    this.settle();
    return this.repo.list(broadcastId);
  }

  forCluster(clusterId: string, limit = 100) {
    this.settle();
    return this.repo.forCluster(clusterId, limit);
  }

  /** "X of Y clusters started, median/max delay, who failed and why" — counted in clusters. */
  summary(broadcastId: string, who: ClusterLookup, over = false): DeliverySummary {
    this.settle();
    const s: DeliverySummary = { targeted: 0, received: 0, downloaded: 0, started: 0, finished: 0, failed: 0, notReceived: 0, startDelayMs: { median: null, max: null }, failures: [], waiting: [] };
    const delays: number[] = [];
    for (const c of this.repo.folds(broadcastId)) {
      s.targeted++;
      if (c.received) s.received++;
      if (c.downloaded) s.downloaded++;
      if (c.started) s.started++;
      if (c.finished) s.finished++;
      if (c.failState) {
        s.failed++;
        s.failures.push({ clusterId: c.clusterId, name: who.name(c.clusterId), state: c.failState, reason: c.failReason });
      } else if (!c.received) s.notReceived++;
      // A broadcast that is over (cancelled, or closed by the server) waits for nothing: whatever did not air is a failure.
      if (!over && !c.failState && !c.started && !c.finished) {
        const up = who.online(c.clusterId);
        const reason: WaitingReason | null = !c.received ? (up ? 'not_received' : 'offline') : !c.downloaded ? 'not_downloaded' : null;
        if (reason && s.waiting.length < WAITING_LISTED) s.waiting.push({ clusterId: c.clusterId, name: who.name(c.clusterId), reason, since: up ? null : iso(who.offlineSince(c.clusterId)) });
      }
      if (c.startDelayMs !== null) delays.push(c.startDelayMs);
    }
    s.startDelayMs = { median: median(delays), max: delays.length ? Math.max(...delays) : null };
    // The officer looks for the clusters that lost the link first, then those still fetching.
    const order: Record<WaitingReason, number> = { offline: 0, not_received: 1, not_downloaded: 2 };
    s.waiting.sort((a, b) => order[a.reason] - order[b.reason] || byName.compare(a.name, b.name));
    s.failures.sort((a, b) => byName.compare(a.name, b.name));
    return s;
  }
}
