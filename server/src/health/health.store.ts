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
        dirty: r.online,
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
  /** Takes the changed entries for the writer and marks them clean. */
  drainDirty(): [string, ClusterHealth][] {
    const out: [string, ClusterHealth][] = [];
    for (const [id, h] of this.map) if (h.dirty) {
      h.dirty = false;
      out.push([id, h]);
    }
    return out;
  }
}
