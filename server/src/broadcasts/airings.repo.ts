import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { airingReports, airings } from '../db/schema.ts';

export type AiringRow = typeof airings.$inferSelect;
export type NewAiring = typeof airings.$inferInsert;
/** The part of an airing a report moves. */
export type AiringProgress = Pick<AiringRow, 'state' | 'receivedAt' | 'downloadedAt' | 'startedAt' | 'finishedAt' | 'reason' | 'updatedAt'>;
export interface ReportRow {
  clusterId: string;
  reportId: string;
  broadcastId: string;
  seq: number;
  state: string;
  deviceTs: number;
  serverTs: number | null;
  receivedAt: number;
  reason: string | null;
  positionMs: number | null;
}
/** One cluster's airings of a broadcast, folded: what the delivery summary counts. */
export interface ClusterFold {
  clusterId: string;
  received: boolean;
  downloaded: boolean;
  started: boolean;
  finished: boolean;
  failState: string | null;
  failReason: string | null;
  startDelayMs: number | null;
}

export const OPEN_STATES = ['pending', 'received', 'downloaded', 'started', 'interrupted', 'resumed'];
export const TERMINAL_STATES = ['finished', 'failed', 'skipped', 'cancelled'];
const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(',');

/**
 * The airing log and the proof-of-play reports behind it. A province's reports arrive in bursts of tens of
 * thousands (every cluster of an emergency says received, started, finished within seconds), so the report path and
 * the plan use prepared statements: drizzle's query building costs about 100 µs a query, several times SQLite's work.
 */
export class AiringsRepo {
  private st: Record<'insertReport' | 'get' | 'update' | 'lastEnd' | 'insertAiring' | 'fold' | 'counts', Statement> | null = null;

  constructor(private db: Db) {}

  private statements() {
    const c = this.db.$client;
    return (this.st ??= {
      insertReport: c.prepare(
        `insert into airing_reports (cluster_id, report_id, broadcast_id, seq, state, device_ts, server_ts, received_at, reason, position_ms)
         values (@clusterId, @reportId, @broadcastId, @seq, @state, @deviceTs, @serverTs, @receivedAt, @reason, @positionMs) on conflict do nothing`,
      ),
      get: c.prepare(
        `select state, received_at as receivedAt, downloaded_at as downloadedAt, started_at as startedAt, finished_at as finishedAt, reason, updated_at as updatedAt
         from airings where broadcast_id = ? and cluster_id = ? and seq = ?`,
      ),
      update: c.prepare(
        `update airings set state = @state, received_at = @receivedAt, downloaded_at = @downloadedAt, started_at = @startedAt,
         finished_at = @finishedAt, reason = @reason, updated_at = @updatedAt where broadcast_id = @broadcastId and cluster_id = @clusterId and seq = @seq`,
      ),
      lastEnd: c.prepare(
        `select max(round(coalesce(server_ts, received_at))) as at from airing_reports
         where cluster_id = ? and broadcast_id = ? and seq = ? and state in (${list(TERMINAL_STATES)}) and report_id <> ?`,
      ),
      insertAiring: c.prepare(
        `insert into airings (broadcast_id, cluster_id, seq, state, outputs, scheduled_at, updated_at) values (?, ?, ?, 'pending', ?, ?, ?) on conflict do nothing`,
      ),
      fold: c.prepare(
        `select cluster_id as clusterId,
           max(received_at is not null or state <> 'pending') as received,
           max(downloaded_at is not null or started_at is not null) as downloaded,
           max(started_at is not null) as started,
           min(state = 'finished') as finished,
           min(case when state = 'failed' or (state = 'skipped' and coalesce(reason, '') <> 'cancelled') then seq end) as failSeq,
           max(case when seq = 0 and started_at is not null and scheduled_at is not null then started_at - scheduled_at end) as startDelayMs
         from airings where broadcast_id = ? group by cluster_id`,
      ),
      counts: c.prepare(
        `select count(*) as total, coalesce(sum(state = 'finished'), 0) as finished,
           coalesce(sum(state in (${list(TERMINAL_STATES)})), 0) as over, coalesce(sum(started_at is not null), 0) as started
         from airings where broadcast_id = ?`,
      ),
    });
  }

  transaction<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }

  insertPlanned(rows: NewAiring[]): void {
    const { insertAiring } = this.statements();
    this.transaction(() => {
      for (const r of rows) insertAiring.run(r.broadcastId, r.clusterId, r.seq, r.outputs ? JSON.stringify(r.outputs) : null, r.scheduledAt ?? null, r.updatedAt);
    });
  }

  /** false when this report (cluster, id) is already stored. */
  insertReport(r: ReportRow): boolean {
    return this.statements().insertReport.run(r).changes > 0;
  }

  progress(broadcastId: string, clusterId: string, seq: number): AiringProgress | undefined {
    return this.statements().get.get(broadcastId, clusterId, seq) as AiringProgress | undefined;
  }

  setProgress(broadcastId: string, clusterId: string, seq: number, p: AiringProgress): void {
    this.statements().update.run({ ...p, broadcastId, clusterId, seq });
  }

  /** When the latest terminal report (other than `exceptId`) of one airing says it ended, in server time. */
  lastEnd(clusterId: string, broadcastId: string, seq: number, exceptId: string): number | null {
    return (this.statements().lastEnd.get(clusterId, broadcastId, seq, exceptId) as { at: number | null }).at;
  }

  open(broadcastId: string): AiringRow[] {
    return this.db.select().from(airings).where(and(eq(airings.broadcastId, broadcastId), inArray(airings.state, OPEN_STATES))).all();
  }

  closeOpen(broadcastId: string, state: string, reason: string, now: number): void {
    this.db.update(airings).set({ state, reason, updatedAt: now }).where(and(eq(airings.broadcastId, broadcastId), inArray(airings.state, OPEN_STATES))).run();
  }

  close(broadcastId: string, clusterId: string, seq: number, state: string, reason: string, now: number): void {
    this.db.update(airings).set({ state, reason, updatedAt: now }).where(and(eq(airings.broadcastId, broadcastId), eq(airings.clusterId, clusterId), eq(airings.seq, seq))).run();
  }

  reportsOf(broadcastId: string, clusterId: string, seq: number): { state: string; at: number; reason: string | null }[] {
    const at = sql<number>`coalesce(${airingReports.serverTs}, ${airingReports.receivedAt})`;
    return this.db
      .select({ state: airingReports.state, at, reason: airingReports.reason })
      .from(airingReports)
      .where(and(eq(airingReports.clusterId, clusterId), eq(airingReports.broadcastId, broadcastId), eq(airingReports.seq, seq)))
      .orderBy(asc(at), asc(airingReports.receivedAt))
      .all();
  }

  /** How many airings a broadcast has, and how many finished, are over, have started: without reading them. */
  counts(broadcastId: string): { total: number; finished: number; over: number; started: number } {
    return this.statements().counts.get(broadcastId) as { total: number; finished: number; over: number; started: number };
  }

  /** A live or relay broadcast: clusters on air now (started or resumed, not over) and underruns reported so far. */
  liveCounts(broadcastId: string): { onAir: number; underruns: number } {
    const c = this.db.$client;
    const onAir = c.prepare(`select count(*) as n from airings where broadcast_id = ? and state in ('started','resumed')`).get(broadcastId) as { n: number };
    const under = c.prepare(`select count(*) as n from airing_reports where broadcast_id = ? and state = 'underrun'`).get(broadcastId) as { n: number };
    return { onAir: onAir.n, underruns: under.n };
  }

  /** Per cluster, folded in SQL; the failure is the earliest failed repeat. */
  folds(broadcastId: string): ClusterFold[] {
    const rows = this.statements().fold.all(broadcastId) as (Omit<ClusterFold, 'failState' | 'failReason'> & { failSeq: number | null })[];
    const failed = rows.filter((r) => r.failSeq !== null);
    const why = new Map<string, { state: string; reason: string | null }>();
    if (failed.length) {
      const get = this.statements().get;
      for (const r of failed) {
        const p = get.get(broadcastId, r.clusterId, r.failSeq) as AiringProgress;
        why.set(r.clusterId, { state: p.state, reason: p.reason });
      }
    }
    return rows.map((r) => ({
      clusterId: r.clusterId,
      received: !!r.received,
      downloaded: !!r.downloaded,
      started: !!r.started,
      finished: !!r.finished,
      failState: why.get(r.clusterId)?.state ?? null,
      failReason: why.get(r.clusterId)?.reason ?? null,
      startDelayMs: r.startDelayMs,
    }));
  }

  list(broadcastId: string): AiringRow[] {
    return this.db.select().from(airings).where(eq(airings.broadcastId, broadcastId)).all();
  }

  /** The cluster's latest airings, newest first. */
  forCluster(clusterId: string, limit: number): AiringRow[] {
    return this.db.select().from(airings).where(eq(airings.clusterId, clusterId)).orderBy(desc(airings.updatedAt)).limit(limit).all();
  }

  /**
   * Per broadcast and cluster, how its airings ended (the timetable): finished, failed with a reason, or still open;
   * for one cluster when `clusterId` is given. Plain statements returning arrays: a commune's week is tens of
   * thousands of rows, and mapping each through the query builder cost most of the timetable's time.
   */
  outcomes(broadcastIds: string[], clusterId?: string): { broadcastId: string; clusterId: string; state: string; reason: string | null }[] {
    const out: { broadcastId: string; clusterId: string; state: string; reason: string | null }[] = [];
    for (let i = 0; i < broadcastIds.length; i += 500) {
      const ids = broadcastIds.slice(i, i + 500);
      const sql = `select broadcast_id, cluster_id, state, reason from airings where broadcast_id in (${ids.map(() => '?').join(',')})${clusterId ? ' and cluster_id = ?' : ''}`;
      const rows = this.db.$client.prepare(sql).raw().all(...ids, ...(clusterId ? [clusterId] : [])) as [string, string, string, string | null][];
      for (const [b, c, state, reason] of rows) out.push({ broadcastId: b, clusterId: c, state, reason });
    }
    return out;
  }

}
