import type { Telemetry } from '../../../schemas/device-protocol/telemetry.ts';
import type { StateRow } from '../devices/clusters.repo.ts';
import { faultsOf, faultyOutputCount } from './faults.ts';

export interface ClusterHealth {
  online: boolean;
  lastSeen: number | null;
  changedAt: number | null;
  telemetry: Telemetry | null;
  telemetryAt: number | null;
  birth: Record<string, unknown> | null;
  faults: string[];
  faultyOutputs: number;
  malformedCount: number;
  /** true once something changed that the database has not seen yet */
  dirty: boolean;
  /** a change worth writing at the next flush (presence, faults, power, birth); other changes wait for the interval */
  urgent: boolean;
  /** when the latest state was last written */
  writtenAt: number;
}

const empty = (): ClusterHealth => ({
  online: false,
  lastSeen: null,
  changedAt: null,
  telemetry: null,
  telemetryAt: null,
  birth: null,
  faults: [],
  faultyOutputs: 0,
  malformedCount: 0,
  dirty: false,
  urgent: false,
  writtenAt: 0,
});

/** Latest health of every cluster, in memory; the presence and telemetry services write it, listings read it. */
export class HealthStore {
  private map = new Map<string, ClusterHealth>();

  load(rows: StateRow[]): void {
    for (const r of rows) {
      const t = (r.telemetry as Telemetry | null) ?? null;
      // The broker's sessions did not survive the restart, so nobody is online until they reconnect.
      this.map.set(r.clusterId, {
        ...empty(),
        lastSeen: r.lastSeen,
        changedAt: r.changedAt,
        telemetry: t,
        telemetryAt: r.telemetryAt,
        birth: (r.birth as Record<string, unknown> | null) ?? null,
        faults: t ? faultsOf(t) : [],
        faultyOutputs: t ? faultyOutputCount(t) : 0,
        malformedCount: r.malformedCount,
        // Stored as online by the previous process: write the correction at the first flush.
        dirty: r.online,
        urgent: r.online,
      });
    }
  }

  get(id: string): ClusterHealth {
    let h = this.map.get(id);
    if (!h) this.map.set(id, (h = empty()));
    return h;
  }
  peek(id: string): ClusterHealth | undefined {
    return this.map.get(id);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  entries(): IterableIterator<[string, ClusterHealth]> {
    return this.map.entries();
  }
  onlineCount(): number {
    let n = 0;
    for (const h of this.map.values()) if (h.online) n++;
    return n;
  }
  /**
   * Takes the entries the writer should store now and marks them clean: urgent changes at once, routine ones (a new
   * lastSeen, the latest telemetry) at most every `routineMs` per cluster — the time series has every report anyway,
   * and rewriting 10,000 rows a second was two-thirds of the server's CPU under load.
   */
  drainDirty(now: number, routineMs: number): [string, ClusterHealth][] {
    const out: [string, ClusterHealth][] = [];
    for (const [id, h] of this.map) {
      if (!h.dirty || (!h.urgent && now - h.writtenAt < routineMs)) continue;
      h.dirty = false;
      h.urgent = false;
      h.writtenAt = now;
      out.push([id, h]);
    }
    return out;
  }
}
