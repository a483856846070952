import { and, asc, count, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { first, type Db, type Tx } from '../db/client.ts';
import type { airings } from '../db/schema.ts';

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
 * thousands (every cluster of an emergency says received, started, finished within seconds), so on SQLite the report
 * path and the plan use prepared statements: drizzle's query building costs about 100 µs a query, several times
 * SQLite's work. On PostgreSQL (no `db.sqlite`) the same queries are built with drizzle: correct first, fast later.
 */
export class AiringsRepo {
  private st: Record<'insertReport' | 'get' | 'update' | 'lastEnd' | 'insertAiring' | 'fold' | 'counts', Statement> | null = null;

  constructor(private db: Db) {}

  /** The prepared statements, on SQLite; null on PostgreSQL. */
  private statements() {
    const c = this.db.sqlite;
    if (!c) return null;
    return (this.st ??= prepare(c));
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>, outer?: Tx): Promise<T> {
    return this.db.transaction(fn, outer);
  }

  insertPlanned(rows: NewAiring[], outer?: Tx): Promise<void> {
    const st = this.statements();
    return this.transaction(async (tx) => {
      if (st) {
        const { insertAiring } = st;
        await this.db.run(tx, () => {
          for (const r of rows) insertAiring.run(r.broadcastId, r.clusterId, r.seq, r.outputs ? JSON.stringify(r.outputs) : null, r.scheduledAt ?? null, r.updatedAt);
        });
        return;
      }
      const { airings } = this.db.t;
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000).map((r) => ({ ...r, state: 'pending', outputs: r.outputs ?? null, scheduledAt: r.scheduledAt ?? null }));
        await this.db.run(tx, (q) => q.insert(airings).values(chunk).onConflictDoNothing());
      }
    }, outer);
  }

  /** false when this report (cluster, id) is already stored. */
  async insertReport(r: ReportRow, tx?: Tx): Promise<boolean> {
    const st = this.statements();
    if (st) return this.db.run(tx, () => st.insertReport.run(r).changes > 0);
    const { airingReports } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.insert(airingReports).values(r).onConflictDoNothing().returning({ id: airingReports.reportId }));
    return rows.length > 0;
  }

  progress(broadcastId: string, clusterId: string, seq: number, tx?: Tx): Promise<AiringProgress | undefined> {
    const st = this.statements();
    if (st) return this.db.run(tx, () => st.get.get(broadcastId, clusterId, seq) as AiringProgress | undefined);
    // TODO(pg): `for update` here (the report path reads then writes the airing in one transaction): SQLite runs one
    // transaction at a time, PostgreSQL would let two reports of one airing interleave and the later write win.
    const { airings: a } = this.db.t;
    return this.db
      .run(tx, (q) =>
        q
          .select({ state: a.state, receivedAt: a.receivedAt, downloadedAt: a.downloadedAt, startedAt: a.startedAt, finishedAt: a.finishedAt, reason: a.reason, updatedAt: a.updatedAt })
          .from(a)
          .where(and(eq(a.broadcastId, broadcastId), eq(a.clusterId, clusterId), eq(a.seq, seq)))
          .limit(1),
      )
      .then((rows) => first(rows) ?? undefined);
  }

  async setProgress(broadcastId: string, clusterId: string, seq: number, p: AiringProgress, tx?: Tx): Promise<void> {
    const st = this.statements();
    if (st) {
      await this.db.run(tx, () => st.update.run({ ...p, broadcastId, clusterId, seq }));
      return;
    }
    const { airings: a } = this.db.t;
    await this.db.run(tx, (q) => q.update(a).set(p).where(and(eq(a.broadcastId, broadcastId), eq(a.clusterId, clusterId), eq(a.seq, seq))));
  }

  /** When the latest terminal report (other than `exceptId`) of one airing says it ended, in server time. */
  async lastEnd(clusterId: string, broadcastId: string, seq: number, exceptId: string, tx?: Tx): Promise<number | null> {
    const st = this.statements();
    if (st) return this.db.run(tx, () => (st.lastEnd.get(clusterId, broadcastId, seq, exceptId) as { at: number | null }).at);
    const { airingReports: r } = this.db.t;
    const rows = await this.db.run(tx, (q) =>
      q
        .select({ at: sql<number | null>`max(round(coalesce(${r.serverTs}, ${r.receivedAt})))` })
        .from(r)
        .where(and(eq(r.clusterId, clusterId), eq(r.broadcastId, broadcastId), eq(r.seq, seq), inArray(r.state, TERMINAL_STATES), ne(r.reportId, exceptId))),
    );
    const at = rows[0]?.at;
    return at === null || at === undefined ? null : Number(at);
  }

  open(broadcastId: string, tx?: Tx): Promise<AiringRow[]> {
    const { airings } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(airings).where(and(eq(airings.broadcastId, broadcastId), inArray(airings.state, OPEN_STATES))));
  }

  async closeOpen(broadcastId: string, state: string, reason: string, now: number, tx?: Tx): Promise<void> {
    const { airings } = this.db.t;
    await this.db.run(tx, (q) => q.update(airings).set({ state, reason, updatedAt: now }).where(and(eq(airings.broadcastId, broadcastId), inArray(airings.state, OPEN_STATES))));
  }

  async close(broadcastId: string, clusterId: string, seq: number, state: string, reason: string, now: number, tx?: Tx): Promise<void> {
    const { airings } = this.db.t;
    await this.db.run(tx, (q) =>
      q.update(airings).set({ state, reason, updatedAt: now }).where(and(eq(airings.broadcastId, broadcastId), eq(airings.clusterId, clusterId), eq(airings.seq, seq))),
    );
  }

  async reportsOf(broadcastId: string, clusterId: string, seq: number, tx?: Tx): Promise<{ state: string; at: number; reason: string | null }[]> {
    const { airingReports } = this.db.t;
    const at = sql<number>`coalesce(${airingReports.serverTs}, ${airingReports.receivedAt})`;
    const rows = await this.db.run(tx, (q) =>
      q
        .select({ state: airingReports.state, at, reason: airingReports.reason })
        .from(airingReports)
        .where(and(eq(airingReports.clusterId, clusterId), eq(airingReports.broadcastId, broadcastId), eq(airingReports.seq, seq)))
        .orderBy(asc(at), asc(airingReports.receivedAt)),
    );
    // pg returns a coalesce of real and bigint as numeric text
    return rows.map((r) => ({ ...r, at: Number(r.at) }));
  }

  /** How many airings a broadcast has, and how many finished, are over, have started: without reading them. */
  async counts(broadcastId: string, tx?: Tx): Promise<{ total: number; finished: number; over: number; started: number }> {
    const st = this.statements();
    if (st) return this.db.run(tx, () => st.counts.get(broadcastId) as { total: number; finished: number; over: number; started: number });
    const { airings: a } = this.db.t;
    const n = (cond: ReturnType<typeof sql>) => sql<number>`coalesce(sum(case when ${cond} then 1 else 0 end), 0)`.mapWith(Number);
    const rows = await this.db.run(tx, (q) =>
      q
        .select({
          total: count(),
          finished: n(sql`${a.state} = 'finished'`),
          over: n(sql`${inArray(a.state, TERMINAL_STATES)}`),
          started: n(sql`${a.startedAt} is not null`),
        })
        .from(a)
        .where(eq(a.broadcastId, broadcastId)),
    );
    return rows[0] ?? { total: 0, finished: 0, over: 0, started: 0 };
  }

  /** A live or relay broadcast: clusters on air now (started or resumed, not over) and underruns reported so far. */
  async liveCounts(broadcastId: string, tx?: Tx): Promise<{ onAir: number; underruns: number }> {
    const { airings: a, airingReports: r } = this.db.t;
    const onAir = await this.db.run(tx, (q) => q.select({ n: count() }).from(a).where(and(eq(a.broadcastId, broadcastId), inArray(a.state, ['started', 'resumed']))));
    const under = await this.db.run(tx, (q) => q.select({ n: count() }).from(r).where(and(eq(r.broadcastId, broadcastId), eq(r.state, 'underrun'))));
    return { onAir: onAir[0]?.n ?? 0, underruns: under[0]?.n ?? 0 };
  }

  /** Per cluster, folded in SQL; the failure is the earliest failed repeat. */
  async folds(broadcastId: string, tx?: Tx): Promise<ClusterFold[]> {
    const rows = await this.foldRows(broadcastId, tx);
    const failed = rows.filter((r) => r.failSeq !== null);
    const why = new Map<string, { state: string; reason: string | null }>();
    for (const r of failed) {
      const p = (await this.progress(broadcastId, r.clusterId, r.failSeq!, tx))!;
      why.set(r.clusterId, { state: p.state, reason: p.reason });
    }
    return rows.map((r) => ({
      clusterId: r.clusterId,
      received: !!r.received,
      downloaded: !!r.downloaded,
      started: !!r.started,
      finished: !!r.finished,
      failState: why.get(r.clusterId)?.state ?? null,
      failReason: why.get(r.clusterId)?.reason ?? null,
      startDelayMs: r.startDelayMs === null ? null : Number(r.startDelayMs),
    }));
  }

  private foldRows(broadcastId: string, tx?: Tx): Promise<(Omit<ClusterFold, 'failState' | 'failReason'> & { failSeq: number | null })[]> {
    const st = this.statements();
    if (st) return this.db.run(tx, () => st.fold.all(broadcastId) as (Omit<ClusterFold, 'failState' | 'failReason'> & { failSeq: number | null })[]);
    // PostgreSQL: booleans fold with bool_or/bool_and (max() of a boolean is SQLite's alone)
    const { airings: a } = this.db.t;
    return this.db.run(tx, (q) =>
      q
        .select({
          clusterId: a.clusterId,
          received: sql<boolean>`bool_or(${a.receivedAt} is not null or ${a.state} <> 'pending')`,
          downloaded: sql<boolean>`bool_or(${a.downloadedAt} is not null or ${a.startedAt} is not null)`,
          started: sql<boolean>`bool_or(${a.startedAt} is not null)`,
          finished: sql<boolean>`bool_and(${a.state} = 'finished')`,
          failSeq: sql<number | null>`min(case when ${a.state} = 'failed' or (${a.state} = 'skipped' and coalesce(${a.reason}, '') <> 'cancelled') then ${a.seq} end)`,
          startDelayMs: sql<number | null>`max(case when ${a.seq} = 0 and ${a.startedAt} is not null and ${a.scheduledAt} is not null then ${a.startedAt} - ${a.scheduledAt} end)`,
        })
        .from(a)
        .where(eq(a.broadcastId, broadcastId))
        .groupBy(a.clusterId),
    );
  }

  list(broadcastId: string, tx?: Tx): Promise<AiringRow[]> {
    const { airings } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(airings).where(eq(airings.broadcastId, broadcastId)));
  }

  /** The cluster's latest airings, newest first. */
  forCluster(clusterId: string, limit: number, tx?: Tx): Promise<AiringRow[]> {
    const { airings } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(airings).where(eq(airings.clusterId, clusterId)).orderBy(desc(airings.updatedAt)).limit(limit));
  }

  /**
   * Per broadcast and cluster, how its airings ended (the timetable): finished, failed with a reason, or still open;
   * for one cluster when `clusterId` is given. On SQLite plain statements returning arrays: a commune's week is tens
   * of thousands of rows, and mapping each through the query builder cost most of the timetable's time.
   */
  async outcomes(broadcastIds: string[], clusterId?: string, tx?: Tx): Promise<{ broadcastId: string; clusterId: string; state: string; reason: string | null }[]> {
    const out: { broadcastId: string; clusterId: string; state: string; reason: string | null }[] = [];
    const sqlite = this.db.sqlite;
    const { airings: a } = this.db.t;
    for (let i = 0; i < broadcastIds.length; i += 500) {
      const ids = broadcastIds.slice(i, i + 500);
      if (sqlite) {
        const text = `select broadcast_id, cluster_id, state, reason from airings where broadcast_id in (${ids.map(() => '?').join(',')})${clusterId ? ' and cluster_id = ?' : ''}`;
        const rows = await this.db.run(tx, () => sqlite.prepare(text).raw().all(...ids, ...(clusterId ? [clusterId] : [])) as [string, string, string, string | null][]);
        for (const [b, c, state, reason] of rows) out.push({ broadcastId: b, clusterId: c, state, reason });
      } else {
        const where = clusterId ? and(inArray(a.broadcastId, ids), eq(a.clusterId, clusterId)) : inArray(a.broadcastId, ids);
        out.push(...(await this.db.run(tx, (q) => q.select({ broadcastId: a.broadcastId, clusterId: a.clusterId, state: a.state, reason: a.reason }).from(a).where(where))));
      }
    }
    return out;
  }
}

function prepare(c: Database.Database) {
  return {
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
  };
}
