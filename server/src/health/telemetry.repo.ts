import { and, asc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { Db, Tx } from '../db/client.ts';
import type { telemetry } from '../db/schema.ts';
import type { TelemetryPoint as ApiTelemetryPoint } from '../../../schemas/api/clusters.ts';

export type TelemetryPoint = typeof telemetry.$inferInsert;
export type TelemetryRow = typeof telemetry.$inferSelect;
/** A bucket's averages as the API gives them (schemas/api/clusters.ts), with its start in ms for `t`. */
export type TelemetryBucket = Omit<ApiTelemetryPoint, 't'> & { b: number };

/** The telemetry time series (the latest state per cluster is `cluster_state`, owned by ClustersRepo). */
export class TelemetryRepo {
  private insertRow: Statement | null = null;
  private deleteOld: Statement<[number]> | null = null;

  constructor(private db: Db) {}

  /**
   * Appends points. On SQLite a statement prepared once: building each row through the query builder cost ~100 µs.
   * Atomic only inside a caller's transaction (a flush writes these with the clusters' latest state).
   */
  async insertMany(rows: TelemetryPoint[], tx?: Tx): Promise<void> {
    if (!rows.length) return;
    const sqlite = this.db.sqlite;
    if (!sqlite) {
      const { telemetry } = this.db.t;
      await this.db.run(tx, (q) => q.insert(telemetry).values(rows.map((r) => ({ ...r, clockOffsetMs: r.clockOffsetMs ?? null }))));
      return;
    }
    const insert = (this.insertRow ??= sqlite.prepare(
      'insert into telemetry (cluster_id, ts, mains_v, on_battery, battery_v, battery_pct, relay_tripped, amp_temp_c, rssi_dbm, volume, faulty_outputs, clock_offset_ms) values (?,?,?,?,?,?,?,?,?,?,?,?)',
    ));
    await this.db.run(tx, () => {
      for (const r of rows) insert.run(r.clusterId, r.ts, r.mainsV, r.onBattery ? 1 : 0, r.batteryV, r.batteryPct, r.relayTripped ? 1 : 0, r.ampTempC, r.rssiDbm, r.volume, r.faultyOutputs, r.clockOffsetMs ?? null);
    });
  }

  /**
   * Deletes points taken before `before`; returns how many. An hour of a large fleet is millions of rows, so on
   * SQLite a prepared statement counts them (its `changes`) rather than returning each deleted row.
   */
  async deleteBefore(before: number, tx?: Tx): Promise<number> {
    const sqlite = this.db.sqlite;
    if (sqlite) {
      const del = (this.deleteOld ??= sqlite.prepare<[number]>('delete from telemetry where ts < ?'));
      return this.db.run(tx, () => del.run(before).changes);
    }
    const { telemetry } = this.db.t;
    // TODO(pg): count without returning every deleted row (with d as (delete … returning 1) select count(*) from d).
    const gone = await this.db.run(tx, (q) => q.delete(telemetry).where(lt(telemetry.ts, before)).returning({ ts: telemetry.ts }));
    return gone.length;
  }

  /** A cluster's raw points in [from, to], oldest first, at most 10,000. */
  points(clusterId: string, from: number, to: number, tx?: Tx): Promise<TelemetryRow[]> {
    const { telemetry } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(telemetry).where(this.range(clusterId, from, to)).orderBy(asc(telemetry.ts)).limit(10_000));
  }

  /** Averages per bucket of `bucketMs` (the bucket's start in `b`), oldest first, at most 10,000 buckets. */
  buckets(clusterId: string, from: number, to: number, bucketMs: number, tx?: Tx): Promise<TelemetryBucket[]> {
    const { telemetry } = this.db.t;
    // Parameters bind as REAL in SQLite, so the division must be truncated explicitly. PostgreSQL divides bigints
    // exactly so; the bucket width is written into the SQL there, since a parameter in both the select list and the
    // group by is two parameters to it, not one expression.
    const width = sql.raw(String(Math.trunc(bucketMs)));
    const bucket = this.db.dialect === 'sqlite'
      ? sql<number>`cast(${telemetry.ts} / ${bucketMs} as integer) * ${bucketMs}`
      : sql<number>`(${telemetry.ts} / ${width}) * ${width}`;
    // PostgreSQL averages no booleans, and answers numeric and bigint aggregates as strings: hence ::int and Number.
    const onBattery = this.db.dialect === 'sqlite' ? sql`avg(${telemetry.onBattery})` : sql`avg(${telemetry.onBattery}::int)`;
    return this.db.run(tx, (q) =>
      q
        .select({
          b: bucket.mapWith(Number),
          mainsV: sql<number | null>`avg(${telemetry.mainsV})`.mapWith(Number),
          batteryV: sql`avg(${telemetry.batteryV})`.mapWith(Number),
          batteryPct: sql`avg(${telemetry.batteryPct})`.mapWith(Number),
          onBattery: onBattery.mapWith(Number),
          ampTempC: sql`avg(${telemetry.ampTempC})`.mapWith(Number),
          rssiDbm: sql`avg(${telemetry.rssiDbm})`.mapWith(Number),
          faultyOutputs: sql`max(${telemetry.faultyOutputs})`.mapWith(Number),
          samples: sql`count(*)`.mapWith(Number),
        })
        .from(telemetry)
        .where(this.range(clusterId, from, to))
        .groupBy(bucket)
        .orderBy(bucket)
        .limit(10_000),
    );
  }

  private range(clusterId: string, from: number, to: number) {
    const { telemetry } = this.db.t;
    return and(eq(telemetry.clusterId, clusterId), gte(telemetry.ts, from), lte(telemetry.ts, to));
  }
}
