import type { Telemetry } from '../../../schemas/device-protocol/telemetry.ts';
import type { Transact } from '../db/tx.ts';
import type { ClustersRepo } from '../devices/clusters.repo.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { faultsOf, faultyOutputCount } from './faults.ts';
import { applyEvent } from './event-effects.ts';
import type { DeviceEvent } from '../../../schemas/device-protocol/events.ts';
import type { HealthStore } from './health.store.ts';
import type { TelemetryPoint as Row, TelemetryRepo } from './telemetry.repo.ts';

/** Where telemetry is kept: the time series, the clusters' latest state (its owner's), and one transaction for both. */
export interface TelemetryPersistence {
  points: TelemetryRepo;
  states: Pick<ClustersRepo, 'saveStates'>;
  transact: Transact;
}

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

  constructor(
    private repos: TelemetryPersistence,
    private store: HealthStore,
    private directory: DeviceDirectory,
    private bus: Bus,
    private clock: Clock,
    /** routine latest-state writes per cluster at most this often; urgent changes go at once */
    private stateIntervalMs = 60_000,
    private limits: TelemetryLimits = { maxBuffered: 100_000, onDropped: () => undefined },
  ) {}

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
   * Writes buffered rows and dirty latest-state in one transaction. Resolves to the rows written; `onPersisted` gets,
   * per row, the milliseconds from the device's publish to the commit. `everything` also writes routine state changes
   * that would otherwise wait (at shutdown). What it writes is taken from memory before the first await, so reports
   * arriving during the write go to the next flush.
   */
  async flush(onPersisted?: (ms: number) => void, everything = false): Promise<number> {
    const rows = this.buffer;
    const sentAt = this.sentAt;
    const dirty = this.store.drainDirty(this.clock.now(), everything ? 0 : this.stateIntervalMs);
    this.buffer = [];
    this.sentAt = [];
    if (rows.length || dirty.length) {
      const states = dirty.map(([clusterId, h]) => {
        const { online, lastSeen, changedAt, telemetry, telemetryAt, birth, malformedCount } = h;
        return { clusterId, online, lastSeen, changedAt, telemetry, telemetryAt, birth, faultCount: h.faults.length, malformedCount };
      });
      await this.repos.transact(async (tx) => {
        await this.repos.points.insertMany(rows, tx);
        await this.repos.states.saveStates(states, tx);
      });
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
  prune(retentionDays: number): Promise<number> {
    const cutoff = this.clock.now() - retentionDays * 86_400_000;
    return this.repos.points.deleteBefore(cutoff);
  }

  /** Raw points, or averages per bucket of `resolutionS` seconds. */
  async history(clusterId: string, from: number, to: number, resolutionS: number) {
    if (!resolutionS) {
      return (await this.repos.points.points(clusterId, from, to)).map((r) => ({
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
    return (await this.repos.points.buckets(clusterId, from, to, resolutionS * 1000)).map(({ b, ...r }) => ({ t: new Date(b).toISOString(), ...r }));
  }
}
