import { and, asc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { telemetry } from '../db/schema.ts';

export type TelemetryPoint = typeof telemetry.$inferInsert;

/** The telemetry time series (the latest state per cluster is `cluster_state`, owned by ClustersRepo). */
export class TelemetryRepo {
  private insertRow: Statement | null = null;

  constructor(private db: Db) {}

  /**
   * Appends points. A statement prepared once: building each row through the query builder cost ~100 µs. Atomic
   * only inside a caller's inTransaction() (a flush writes these with the clusters' latest state).
   */
  insertMany(rows: TelemetryPoint[]): void {
    const insert = (this.insertRow ??= this.db.$client.prepare(
      'insert into telemetry (cluster_id, ts, mains_v, on_battery, battery_v, battery_pct, relay_tripped, amp_temp_c, rssi_dbm, volume, faulty_outputs, clock_offset_ms) values (?,?,?,?,?,?,?,?,?,?,?,?)',
    ));
    for (const r of rows) insert.run(r.clusterId, r.ts, r.mainsV, r.onBattery ? 1 : 0, r.batteryV, r.batteryPct, r.relayTripped ? 1 : 0, r.ampTempC, r.rssiDbm, r.volume, r.faultyOutputs, r.clockOffsetMs ?? null);
  }

  /** Deletes points taken before `before`; returns how many. */
  deleteBefore(before: number): number {
    return this.db.delete(telemetry).where(lt(telemetry.ts, before)).run().changes;
  }

  /** A cluster's raw points in [from, to], oldest first, at most 10,000. */
  points(clusterId: string, from: number, to: number) {
    return this.db.select().from(telemetry).where(this.range(clusterId, from, to)).orderBy(asc(telemetry.ts)).limit(10_000).all();
  }

  /** Averages per bucket of `bucketMs` (the bucket's start in `b`), oldest first, at most 10,000 buckets. */
  buckets(clusterId: string, from: number, to: number, bucketMs: number) {
    // Parameters bind as REAL in SQLite, so the division must be truncated explicitly.
    const bucket = sql<number>`cast(${telemetry.ts} / ${bucketMs} as integer) * ${bucketMs}`;
    return this.db
      .select({
        b: bucket,
        mainsV: sql<number | null>`avg(${telemetry.mainsV})`,
        batteryV: sql<number>`avg(${telemetry.batteryV})`,
        batteryPct: sql<number>`avg(${telemetry.batteryPct})`,
        onBattery: sql<number>`avg(${telemetry.onBattery})`,
        ampTempC: sql<number>`avg(${telemetry.ampTempC})`,
        rssiDbm: sql<number>`avg(${telemetry.rssiDbm})`,
        faultyOutputs: sql<number>`max(${telemetry.faultyOutputs})`,
        samples: sql<number>`count(*)`,
      })
      .from(telemetry)
      .where(this.range(clusterId, from, to))
      .groupBy(bucket)
      .orderBy(bucket)
      .limit(10_000)
      .all();
  }

  private range(clusterId: string, from: number, to: number) {
    return and(eq(telemetry.clusterId, clusterId), gte(telemetry.ts, from), lte(telemetry.ts, to));
  }
}
