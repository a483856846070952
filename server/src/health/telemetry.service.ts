import { and, asc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import type { Telemetry } from '../../../schemas/device-protocol/telemetry.ts';
import type { Db } from '../db/client.ts';
import type { Statement } from 'better-sqlite3';
import { telemetry } from '../db/schema.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { faultsOf, faultyOutputCount } from './faults.ts';
import { applyEvent } from './event-effects.ts';
import type { DeviceEvent } from '../../../schemas/device-protocol/events.ts';
import type { HealthStore } from './health.store.ts';

type Row = typeof telemetry.$inferInsert;

export interface TelemetryLimits {
  /** time-series rows held between flushes at most; past it a report still updates the latest state */
  maxBuffered: number;
  /** called for each time-series row dropped because the buffer was full (counted in /metrics) */
  onDropped: () => void;
}

/**
 * Telemetry is kept twice: the latest report per cluster in memory (and `cluster_state`), and a time series in
 * `telemetry`. Rows are buffered and written in one transaction per flush, which is what lets one SQLite file take
 * 10,000 clusters reporting every 10 s.
 */
export class TelemetryService {
  private buffer: Row[] = [];
  /** server-time instant each buffered report was sent (device ts corrected by its measured clock offset) */
  private sentAt: number[] = [];

  private prepared: { insertRow: Statement; updateState: Statement } | null = null;

  constructor(
    private db: Db,
    private store: HealthStore,
    private directory: DeviceDirectory,
    private bus: Bus,
    private clock: Clock,
    /** routine latest-state writes per cluster at most this often; urgent changes go at once */
    private stateIntervalMs = 60_000,
    private limits: TelemetryLimits = { maxBuffered: 100_000, onDropped: () => undefined },
  ) {}

  private statements() {
    return (this.prepared ??= {
      insertRow: this.db.$client.prepare(
        'insert into telemetry (cluster_id, ts, mains_v, on_battery, battery_v, battery_pct, relay_tripped, amp_temp_c, rssi_dbm, volume, faulty_outputs, clock_offset_ms) values (?,?,?,?,?,?,?,?,?,?,?,?)',
      ),
      updateState: this.db.$client.prepare(
        'update cluster_state set online = ?, last_seen = ?, changed_at = ?, telemetry = ?, telemetry_at = ?, birth = ?, fault_count = ?, malformed_count = ? where cluster_id = ?',
      ),
    });
  }

  /** Amends the latest state from an event; the time series keeps only real reports. */
  applyEvent(clusterId: string, e: DeviceEvent, receivedAt = this.clock.now()): void {
    const latest = this.store.peek(clusterId)?.telemetry;
    const amended = latest && applyEvent(latest, e);
    if (amended) this.update(clusterId, amended, receivedAt);
  }

  ingest(clusterId: string, t: Telemetry, receivedAt = this.clock.now()): void {
    if (!this.directory.has(clusterId)) return;
    const h = this.update(clusterId, t, receivedAt);
    // Under overload (SQLite slower than the fleet reports) memory must not grow without end: the history point
    // is dropped and counted, the cluster's latest state above is kept.
    if (this.buffer.length >= this.limits.maxBuffered) return this.limits.onDropped();
    this.sentAt.push(t.ts + (t.clockOffsetMs ?? 0));
    this.buffer.push({
      clusterId,
      ts: receivedAt,
      mainsV: t.mains.present ? t.mains.voltageV : 0,
      onBattery: t.backup.active,
      batteryV: t.backup.batteryV,
      batteryPct: t.backup.batteryPct,
      relayTripped: t.relayTripped,
      ampTempC: t.amp.temperatureC,
      rssiDbm: t.network.rssiDbm,
      volume: t.volume,
      faultyOutputs: h.faultyOutputs,
      clockOffsetMs: t.clockOffsetMs,
    });
  }

  private update(clusterId: string, t: Telemetry, receivedAt: number) {
    const h = this.store.get(clusterId);
    const before = h.faults.join(',');
    const wasOnBattery = h.telemetry?.backup.active ?? false;
    h.telemetry = t;
    h.telemetryAt = receivedAt;
    h.faults = faultsOf(t);
    h.faultyOutputs = faultyOutputCount(t);
    h.dirty = true;
    if (before !== h.faults.join(',') || wasOnBattery !== t.backup.active) {
      h.urgent = true;
      this.bus.emit('cluster.health', { clusterId, areaId: this.directory.areaOf(clusterId)!, faults: h.faults, onBattery: t.backup.active, at: receivedAt });
    }
    return h;
  }

  /**
   * Writes buffered rows and dirty latest-state in one transaction. Returns rows written; `onPersisted` gets, per
   * row, the milliseconds from the device's publish to the commit. `everything` also writes routine state changes
   * that would otherwise wait (at shutdown).
   */
  flush(onPersisted?: (ms: number) => void, everything = false): number {
    const rows = this.buffer;
    const sentAt = this.sentAt;
    const dirty = this.store.drainDirty(this.clock.now(), everything ? 0 : this.stateIntervalMs);
    this.buffer = [];
    this.sentAt = [];
    if (rows.length || dirty.length) {
      const { insertRow, updateState } = this.statements();
      // Statements prepared once: building them per row through the query builder cost ~100 µs each.
      this.db.$client.transaction(() => {
        for (const r of rows) insertRow.run(r.clusterId, r.ts, r.mainsV, r.onBattery ? 1 : 0, r.batteryV, r.batteryPct, r.relayTripped ? 1 : 0, r.ampTempC, r.rssiDbm, r.volume, r.faultyOutputs, r.clockOffsetMs ?? null);
        for (const [id, h] of dirty) {
          updateState.run(h.online ? 1 : 0, h.lastSeen, h.changedAt, h.telemetry ? JSON.stringify(h.telemetry) : null, h.telemetryAt, h.birth ? JSON.stringify(h.birth) : null, h.faults.length, h.malformedCount, id);
        }
      })();
    }
    if (onPersisted) {
      const now = this.clock.now();
      for (const t of sentAt) onPersisted(now - t);
    }
    return rows.length;
  }

  pending(): number {
    return this.buffer.length;
  }

  /** Deletes points older than the retention window. */
  prune(retentionDays: number): number {
    const cutoff = this.clock.now() - retentionDays * 86_400_000;
    return this.db.delete(telemetry).where(lt(telemetry.ts, cutoff)).run().changes;
  }

  /** Raw points, or averages per bucket of `resolutionS` seconds. */
  history(clusterId: string, from: number, to: number, resolutionS: number) {
    const where = and(eq(telemetry.clusterId, clusterId), gte(telemetry.ts, from), lte(telemetry.ts, to));
    if (!resolutionS) {
      return this.db.select().from(telemetry).where(where).orderBy(asc(telemetry.ts)).limit(10_000).all().map((r) => ({
        t: new Date(r.ts).toISOString(),
        mainsV: r.mainsV,
        batteryV: r.batteryV,
        batteryPct: r.batteryPct,
        onBattery: r.onBattery ? 1 : 0,
        ampTempC: r.ampTempC,
        rssiDbm: r.rssiDbm,
        faultyOutputs: r.faultyOutputs,
        samples: 1,
      }));
    }
    const bucketMs = resolutionS * 1000;
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
      .where(where)
      .groupBy(bucket)
      .orderBy(bucket)
      .limit(10_000)
      .all()
      .map(({ b, ...r }) => ({ t: new Date(b).toISOString(), ...r }));
  }
}
