/** Time already taken on a cluster by a normal airing: what a new normal airing must not overlap. */
export interface Busy {
  from: number;
  to: number;
  title: string;
  programmeId: string | null;
  broadcastId: string | null;
  /** 'first' items keep their time against others that yield */
  rule: string;
  /** the ledger key, for an occurrence the planner may move */
  key?: { programmeId: string; version: number; occurrenceAt: number };
}

/** Per cluster, the intervals taken, in no order (a cluster has a handful a day). */
export class BusyMap {
  private byCluster = new Map<string, Busy[]>();

  add(clusterIds: Iterable<string>, b: Busy): void {
    for (const id of clusterIds) {
      const list = this.byCluster.get(id);
      if (list) list.push(b);
      else this.byCluster.set(id, [b]);
    }
  }

  remove(b: Busy): void {
    for (const [id, list] of this.byCluster) {
      const i = list.indexOf(b);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) this.byCluster.delete(id);
    }
  }

  /** The first-ending interval overlapping [from, to) on any of the clusters, with the clusters it is on. */
  clash(clusterIds: Iterable<string>, from: number, to: number, ignore?: (b: Busy) => boolean): { busy: Busy; clusters: string[] } | null {
    let best: Busy | null = null;
    const on = new Map<Busy, string[]>();
    for (const id of clusterIds) {
      for (const b of this.byCluster.get(id) ?? []) {
        if (b.from >= to || b.to <= from || ignore?.(b)) continue;
        const list = on.get(b) ?? [];
        list.push(id);
        on.set(b, list);
        if (!best || b.to < best.to) best = b;
      }
    }
    return best ? { busy: best, clusters: on.get(best)! } : null;
  }
}
