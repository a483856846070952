import type { AreaRollup } from '../../../schemas/api/areas.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { ClustersService } from '../devices/clusters.service.ts';
import type { HealthStore } from './health.store.ts';

/** Per-area counts for dashboards, computed from memory on request (a commune has tens of clusters, a province thousands). */
export class RollupService {
  constructor(
    private areas: AreasService,
    private clusters: ClustersService,
    private health: HealthStore,
  ) {}

  clustersUnder(areaId: string): string[] {
    const under = this.areas.descendants(areaId);
    return this.clusters.allIds().filter((id) => under.has(this.clusters.areaOf(id)!));
  }

  of(areaId: string): AreaRollup {
    const r: AreaRollup = { areaId, clustersTotal: 0, clustersOnline: 0, clustersOnBattery: 0, clustersWithFaults: 0, speakersTotal: 0, speakersWithFaults: 0 };
    for (const id of this.clustersUnder(areaId)) {
      const h = this.health.peek(id);
      r.clustersTotal++;
      r.speakersTotal += this.clusters.outputCount(id);
      if (!h) continue;
      if (h.online) r.clustersOnline++;
      if (h.telemetry?.backup.active) r.clustersOnBattery++;
      if (h.faults.length) r.clustersWithFaults++;
      r.speakersWithFaults += h.faultyOutputs;
    }
    return r;
  }
}
