import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { ServerAiringReason } from '../../../schemas/api/broadcasts.ts';
import type { DeliverySummary } from '../../../schemas/api/broadcasts.ts';
import type { AiringReport, AiringState } from '../../../schemas/device-protocol/playback.ts';
import type { Db } from '../db/client.ts';
import { airingReports, airings } from '../db/schema.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';

/** How far along an airing is; a report never moves it backwards (reports can arrive out of order after an outage). */
const RANK: Record<string, number> = { pending: 0, received: 1, downloaded: 2, started: 3, interrupted: 4, resumed: 4, finished: 6, failed: 5, skipped: 5, cancelled: 5 };
const TERMINAL = new Set(['finished', 'failed', 'skipped', 'cancelled']);
export const isTerminal = (s: string) => TERMINAL.has(s);

/** When the latest terminal report (other than `exceptId`) of one airing says it ended, in server time. */
function lastEnd(tx: Pick<Db, 'select'>, clusterId: string, broadcastId: string, seq: number, exceptId: string): number | null {
  const rows = tx
    .select({ at: sql<number>`coalesce(${airingReports.serverTs}, ${airingReports.receivedAt})` })
    .from(airingReports)
    .where(and(eq(airingReports.clusterId, clusterId), eq(airingReports.broadcastId, broadcastId), eq(airingReports.seq, seq), inArray(airingReports.state, [...TERMINAL]), ne(airingReports.reportId, exceptId)))
    .all();
  return rows.length ? Math.max(...rows.map((x) => Math.round(x.at))) : null;
}

const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The airing log: one row per (broadcast, cluster, repeat) fed by proof-of-play reports. */
export class AiringsService {
  constructor(
    private db: Db,
    private bus: Bus,
    private clock: Clock,
  ) {}

  /** Creates pending airings for every targeted cluster and repeat. */
  plan(broadcastId: string, rows: { clusterId: string; outputs: number[] | null; scheduledAt: (seq: number) => number }[], count: number): void {
    const now = this.clock.now();
    this.db.transaction((tx) => {
      const batch: (typeof airings.$inferInsert)[] = [];
      for (const r of rows) for (let seq = 0; seq < count; seq++) batch.push({ broadcastId, clusterId: r.clusterId, seq, state: 'pending', outputs: r.outputs, scheduledAt: r.scheduledAt(seq), updatedAt: now });
      for (let i = 0; i < batch.length; i += 500) tx.insert(airings).values(batch.slice(i, i + 500)).onConflictDoNothing().run();
    });
  }

  /**
   * Stores a report once (by its id) and advances the airing. Returns false for a duplicate (the same id re-sent
   * after a lost PUBACK, or a state the airing already records), or an unknown airing.
   */
  report(clusterId: string, r: AiringReport, receivedAt = this.clock.now()): boolean {
    let applied = false;
    this.db.transaction((tx) => {
      const ins = tx
        .insert(airingReports)
        .values({ clusterId, reportId: r.id, broadcastId: r.broadcastId, seq: r.seq, state: r.state, deviceTs: r.ts, serverTs: r.serverTs, receivedAt, reason: r.reason ?? null, positionMs: r.positionMs ?? null })
        .onConflictDoNothing()
        .run();
      if (!ins.changes) return;
      const key = and(eq(airings.broadcastId, r.broadcastId), eq(airings.clusterId, clusterId), eq(airings.seq, r.seq));
      const row = tx.select().from(airings).where(key).get();
      if (!row) return;
      const at = Math.round(r.serverTs ?? receivedAt);
      const patch: Partial<typeof airings.$inferInsert> = { updatedAt: receivedAt };
      if (r.state === 'received') patch.receivedAt = row.receivedAt ?? at;
      if (r.state === 'downloaded') patch.downloadedAt = row.downloadedAt ?? at;
      if (r.state === 'started') patch.startedAt = row.startedAt ?? at;
      // The row is the first complete airing of this seq: once finished it is final, and a device that airs the
      // item again (restarted while it was still unexpired) adds attempts to the report log (see attempts()), not
      // to this row — a later `finished` must not stretch the span, nor a later failure stick a reason to it.
      if (row.state === 'finished') {
        if (r.state === 'started' && row.startedAt === null && (row.finishedAt === null || at <= row.finishedAt)) patch.startedAt = at;
        else delete patch.startedAt;
      } else if (r.state === 'finished') {
        patch.finishedAt = at;
        patch.state = 'finished';
        patch.reason = null;
      } else if (r.state === 'started' && isTerminal(row.state) && row.state !== 'cancelled') {
        // Started after a failure (a retried download, a reboot mid-airing) or after the server closed it at
        // expiry: a new attempt with its own span, unless it is an older start arriving late.
        const ended = lastEnd(tx, clusterId, r.broadcastId, r.seq, r.id);
        if (ended === null || at > ended) Object.assign(patch, { state: 'started', startedAt: at, finishedAt: null, reason: null });
      } else if ((RANK[r.state] ?? 0) >= (RANK[row.state] ?? 0) && !isTerminal(row.state)) {
        // Otherwise only move forward, and a terminal state is final.
        patch.state = r.state;
        if (r.state === 'failed' || r.state === 'skipped' || r.state === 'cancelled') patch.reason = r.reason ?? r.state;
      }
      // The same state again under another id (a device that reported it twice) is kept in the log but changes
      // nothing in the airing: not even updatedAt, and no event.
      const changes = Object.entries(patch).some(([k, v]) => k !== 'updatedAt' && row[k as keyof typeof row] !== v);
      if (!changes) return;
      tx.update(airings).set(patch).where(key).run();
      applied = true;
    });
    if (applied) this.bus.emit('airing.report', { broadcastId: r.broadcastId, clusterId, seq: r.seq, state: r.state as AiringState });
    return applied;
  }

  /** Marks every airing not yet over as cancelled (the devices report their own stop as well). */
  cancelOpen(broadcastId: string): void {
    this.db
      .update(airings)
      .set({ state: 'cancelled', reason: 'cancelled', updatedAt: this.clock.now() })
      .where(and(eq(airings.broadcastId, broadcastId), inArray(airings.state, ['pending', 'received', 'downloaded', 'started', 'interrupted', 'resumed'])))
      .run();
  }

  /**
   * Closes, once the broadcast has expired, every airing its device never reported as over, with the reason why:
   * never received (`offline` or `not_received` by the cluster's presence now), received but not started
   * (`expired`), or started with no end reported by `unfinishedAfter` (`unfinished`). A late report can still
   * move such an airing on (a `finished` from a device's buffer always wins).
   */
  closeExpired(broadcastId: string, online: (clusterId: string) => boolean, unfinished: boolean): number {
    const now = this.clock.now();
    let n = 0;
    this.db.transaction((tx) => {
      const open = tx.select().from(airings).where(and(eq(airings.broadcastId, broadcastId), inArray(airings.state, ['pending', 'received', 'downloaded', 'started', 'interrupted', 'resumed']))).all();
      for (const a of open) {
        let reason: ServerAiringReason;
        if (a.state === 'pending' && a.receivedAt === null) reason = online(a.clusterId) ? 'not_received' : 'offline';
        else if (a.startedAt === null) reason = 'expired';
        else if (unfinished) reason = 'unfinished';
        else continue;
        tx.update(airings).set({ state: 'failed', reason, updatedAt: now }).where(and(eq(airings.broadcastId, broadcastId), eq(airings.clusterId, a.clusterId), eq(airings.seq, a.seq))).run();
        n++;
      }
    });
    return n;
  }

  /**
   * Every attempt at one airing as the device reported it: each `started` opens one (a device restarted while the
   * item was unexpired airs it again), the next terminal report closes it.
   */
  attempts(broadcastId: string, clusterId: string, seq: number): { startedAt: number; endedAt: number | null; state: string; reason: string | null }[] {
    const at = sql<number>`coalesce(${airingReports.serverTs}, ${airingReports.receivedAt})`;
    const log = this.db
      .select({ state: airingReports.state, at, reason: airingReports.reason })
      .from(airingReports)
      .where(and(eq(airingReports.clusterId, clusterId), eq(airingReports.broadcastId, broadcastId), eq(airingReports.seq, seq)))
      .orderBy(asc(at), asc(airingReports.receivedAt))
      .all();
    const out: { startedAt: number; endedAt: number | null; state: string; reason: string | null }[] = [];
    for (const r of log) {
      const cur = out.at(-1);
      if (r.state === 'started') out.push({ startedAt: Math.round(r.at), endedAt: null, state: 'started', reason: null });
      else if (cur && cur.endedAt === null && (isTerminal(r.state) || r.state === 'interrupted' || r.state === 'resumed')) {
        cur.state = r.state;
        if (isTerminal(r.state)) Object.assign(cur, { endedAt: Math.round(r.at), reason: r.reason });
      }
    }
    return out;
  }

  /** Whether every airing of the broadcast finished (without reading them all). */
  allFinished(broadcastId: string): boolean {
    const open = this.db.select({ s: airings.seq }).from(airings).where(and(eq(airings.broadcastId, broadcastId), ne(airings.state, 'finished'))).limit(1).get();
    return !open && this.planned(broadcastId);
  }

  planned(broadcastId: string): boolean {
    return !!this.db.select({ s: airings.seq }).from(airings).where(eq(airings.broadcastId, broadcastId)).limit(1).get();
  }

  list(broadcastId: string) {
    return this.db.select().from(airings).where(eq(airings.broadcastId, broadcastId)).all();
  }

  forCluster(clusterId: string, limit = 100) {
    return this.db.select().from(airings).where(eq(airings.clusterId, clusterId)).orderBy(airings.updatedAt).limit(limit).all().reverse();
  }

  /** "X of Y clusters started, median/max delay, who failed and why" — counted in clusters. */
  summary(broadcastId: string): DeliverySummary {
    const rows = this.list(broadcastId);
    const byCluster = new Map<string, typeof rows>();
    for (const r of rows) byCluster.set(r.clusterId, [...(byCluster.get(r.clusterId) ?? []), r]);
    const s: DeliverySummary = { targeted: byCluster.size, received: 0, downloaded: 0, started: 0, finished: 0, failed: 0, startDelayMs: { median: null, max: null }, failures: [] };
    const delays: number[] = [];
    for (const [clusterId, list] of byCluster) {
      const first = list.find((r) => r.seq === 0) ?? list[0];
      if (list.some((r) => r.receivedAt !== null || (RANK[r.state] ?? 0) >= 1)) s.received++;
      if (list.some((r) => r.downloadedAt !== null || r.startedAt !== null)) s.downloaded++;
      if (list.some((r) => r.startedAt !== null)) s.started++;
      if (list.every((r) => r.state === 'finished')) s.finished++;
      const bad = list.find((r) => r.state === 'failed' || (r.state === 'skipped' && r.reason !== 'cancelled'));
      if (bad) {
        s.failed++;
        s.failures.push({ clusterId, state: bad.state, reason: bad.reason });
      }
      if (first.startedAt !== null && first.scheduledAt !== null) delays.push(first.startedAt - first.scheduledAt);
    }
    s.startDelayMs = { median: median(delays), max: delays.length ? Math.max(...delays) : null };
    return s;
  }
}
