import type { ServerAiringReason } from '../../../schemas/api/broadcasts.ts';
import { WAITING_LISTED, type DeliverySummary, type WaitingReason } from '../../../schemas/api/broadcasts.ts';
import type { AiringReport, AiringState } from '../../../schemas/device-protocol/playback.ts';
import type { Tx } from '../db/tx.ts';
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

/** Reports committed together (one transaction): one SQLite commit costs more than a hundred of them inside it. */
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
  /** the flush in progress, if any */
  private flushing: Promise<void> | null = null;

  constructor(
    private repo: AiringsRepo,
    private bus: Bus,
    private clock: Clock,
    /** Runs deferred writes of this log (a fan-out's plan) before anything reads or moves it. */
    private settle: () => Promise<void> = async () => undefined,
  ) {}

  /** Creates pending airings for every targeted cluster and repeat. */
  async plan(broadcastId: string, rows: { clusterId: string; outputs: number[] | null; scheduledAt: (seq: number) => number }[], count: number): Promise<void> {
    const now = this.clock.now();
    const batch = [];
    for (const r of rows) for (let seq = 0; seq < count; seq++) batch.push({ broadcastId, clusterId: r.clusterId, seq, state: 'pending', outputs: r.outputs, scheduledAt: r.scheduledAt(seq), updatedAt: now });
    await this.repo.insertPlanned(batch);
  }

  /**
   * Stores a report once (by its id) and advances the airing. Returns false for a duplicate (the same id re-sent
   * after a lost PUBACK, or a state the airing already records), or an unknown airing.
   */
  async report(clusterId: string, r: AiringReport, receivedAt = this.clock.now()): Promise<boolean> {
    await this.settle();
    const applied = await this.repo.transaction((tx) => this.apply(clusterId, r, receivedAt, tx));
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
      if (this.queue.length === 1) setImmediate(() => void this.flush());
      else if (this.queue.length >= BATCH) void this.flush();
    });
  }

  /**
   * Commits what `submit` queued, a batch per transaction. Should one report throw, the batch is rolled back and
   * its reports committed one by one, so only that report fails (a savepoint per report would double the cost).
   * Resolves once the queue is empty (joining a flush in progress: shutdown waits for it). Never rejects.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.queue.length) return Promise.resolve();
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    await this.settle();
    while (this.queue.length) {
      const batch = this.queue.splice(0, BATCH);
      let outcome: (boolean | { err: unknown })[];
      try {
        outcome = await this.repo.transaction(async (tx) => {
          const out: boolean[] = [];
          for (const q of batch) out.push(await this.apply(q.clusterId, q.report, q.receivedAt, tx));
          return out;
        });
      } catch {
        outcome = [];
        for (const q of batch) {
          try {
            outcome.push(await this.repo.transaction((tx) => this.apply(q.clusterId, q.report, q.receivedAt, tx)));
          } catch (err) {
            outcome.push({ err });
          }
        }
      }
      // Answered only once committed: the device's PUBACK means "stored".
      batch.forEach((q, i) => {
        const o = outcome[i];
        if (typeof o === 'boolean') {
          if (o) this.emit(q.clusterId, q.report);
          q.done(o);
        } else q.fail(o.err);
      });
    }
  }

  private emit(clusterId: string, r: AiringReport): void {
    this.bus.emit('airing.report', { broadcastId: r.broadcastId, clusterId, seq: r.seq, state: r.state as AiringState });
  }

  /** Inside the caller's transaction `tx`: every read and write of one report commits together. */
  private async apply(clusterId: string, r: AiringReport, receivedAt: number, tx: Tx): Promise<boolean> {
    const stored = await this.repo.insertReport({
      clusterId, reportId: r.id, broadcastId: r.broadcastId, seq: r.seq, state: r.state, deviceTs: r.ts, serverTs: r.serverTs ?? null, receivedAt, reason: r.reason ?? null, positionMs: r.positionMs ?? null,
    }, tx);
    if (!stored) return false;
    const row = await this.repo.progress(r.broadcastId, clusterId, r.seq, tx);
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
      const ended = await this.repo.lastEnd(clusterId, r.broadcastId, r.seq, r.id, tx);
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
    await this.repo.setProgress(r.broadcastId, clusterId, r.seq, { ...next, updatedAt: receivedAt }, tx);
    return true;
  }

  /** A live or relay broadcast's clusters on air now and underruns so far. */
  async liveCounts(broadcastId: string): Promise<{ onAir: number; underruns: number }> {
    await this.settle();
    return this.repo.liveCounts(broadcastId);
  }

  /** Closes airings the server refuses on the device's behalf (a cluster whose firmware cannot play a stream). */
  async refuse(broadcastId: string, clusterIds: string[], reason: string): Promise<void> {
    const now = this.clock.now();
    await this.repo.transaction(async (tx) => {
      for (const id of clusterIds) await this.repo.close(broadcastId, id, 0, 'failed', reason, now, tx);
    });
  }

  /** Marks every airing not yet over as cancelled (the devices report their own stop as well). */
  async cancelOpen(broadcastId: string): Promise<void> {
    await this.settle();
    await this.repo.closeOpen(broadcastId, 'cancelled', 'cancelled', this.clock.now());
  }

  /**
   * Closes, once the broadcast has expired, every airing its device never reported as over, with the reason why:
   * never received (`offline` or `not_received` by the cluster's presence now), received but not started
   * (`expired`), or started with no end reported by `unfinishedAfter` (`unfinished`). A late report can still
   * move such an airing on (a `finished` from a device's buffer always wins).
   */
  async closeExpired(broadcastId: string, online: (clusterId: string) => boolean, unfinished: boolean): Promise<number> {
    await this.settle();
    const now = this.clock.now();
    let n = 0;
    await this.repo.transaction(async (tx) => {
      for (const a of await this.repo.open(broadcastId, tx)) {
        let reason: ServerAiringReason;
        if (a.state === 'pending' && a.receivedAt === null) reason = online(a.clusterId) ? 'not_received' : 'offline';
        else if (a.startedAt === null) reason = 'expired';
        else if (unfinished) reason = 'unfinished';
        else continue;
        await this.repo.close(broadcastId, a.clusterId, a.seq, 'failed', reason, now, tx);
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
  async closeUnreachable(broadcastId: string, online: (clusterId: string) => boolean, durationMs: number): Promise<number> {
    await this.settle();
    const now = this.clock.now();
    const open = await this.repo.open(broadcastId);
    if (!open.length || open.some((a) => online(a.clusterId) || (a.scheduledAt ?? Infinity) + durationMs > now)) return 0;
    await this.repo.transaction(async (tx) => {
      for (const a of open) await this.repo.close(broadcastId, a.clusterId, a.seq, 'failed', a.receivedAt === null && a.state === 'pending' ? 'offline' : 'went_offline', now, tx);
    });
    return open.length;
  }

  /**
   * Every attempt at one airing as the device reported it: each `started` opens one (a device restarted while the
   * item was unexpired airs it again), the next terminal report closes it.
   */
  async attempts(broadcastId: string, clusterId: string, seq: number): Promise<{ startedAt: number; endedAt: number | null; state: string; reason: string | null }[]> {
    await this.settle();
    const out: { startedAt: number; endedAt: number | null; state: string; reason: string | null }[] = [];
    for (const r of await this.repo.reportsOf(broadcastId, clusterId, seq)) {
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
  async counts(broadcastId: string) {
    await this.settle();
    return this.repo.counts(broadcastId);
  }

  /** Whether every airing of the broadcast finished (without reading them all). */
  async allFinished(broadcastId: string): Promise<boolean> {
    const c = await this.counts(broadcastId);
    return c.total > 0 && c.finished === c.total;
  }

  async planned(broadcastId: string): Promise<boolean> {
    return (await this.counts(broadcastId)).total > 0;
  }

  async outcomes(broadcastIds: string[], clusterId?: string) {
    await this.settle();
    return this.repo.outcomes(broadcastIds, clusterId);
  }

  async list(broadcastId: string) {
    await this.settle();
    return this.repo.list(broadcastId);
  }

  async forCluster(clusterId: string, limit = 100) {
    await this.settle();
    return this.repo.forCluster(clusterId, limit);
  }

  /** "X of Y clusters started, median/max delay, who failed and why" — counted in clusters. */
  async summary(broadcastId: string, who: ClusterLookup, over = false): Promise<DeliverySummary> {
    await this.settle();
    const s: DeliverySummary = { targeted: 0, received: 0, downloaded: 0, started: 0, finished: 0, failed: 0, notReceived: 0, startDelayMs: { median: null, max: null }, failures: [], waiting: [] };
    const delays: number[] = [];
    for (const c of await this.repo.folds(broadcastId)) {
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
