import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Db } from '../db/client.ts';
import type { ClustersService } from '../devices/clusters.service.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { HealthStore } from '../health/health.store.ts';
import type { TelemetryService } from '../health/telemetry.service.ts';
import { systemActor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { AlarmsRepo } from './alarms.repo.ts';
import { AlarmsService } from './alarms.service.ts';

interface From {
  areas: AreasService;
  directory: DeviceDirectory;
  clusters: Pick<ClustersService, 'nameOf' | 'get'>;
  health: HealthStore;
  telemetry: Pick<TelemetryService, 'history'>;
  accounts: { displayNameOf(username: string): Promise<string | null> };
  audit: AuditService;
}

/**
 * The alarms capability wired from the services it reads (one line in services.ts). It listens once `start()` has
 * caught up with the faults loaded: after the clusters' start, which loads the health store and the directory.
 */
export function createAlarms(db: Db, bus: Bus, clock: Clock, s: From, onError: (err: unknown) => void): AlarmsService {
  const alarms = new AlarmsService(new AlarmsRepo(db), {
    areas: s.areas,
    directory: s.directory,
    clusterName: (id) => s.clusters.nameOf(id),
    outputLabel: (id, index) => {
      try {
        return s.clusters.get(id, systemActor()).outputs.find((o) => o.index === index)?.label ?? null;
      } catch {
        return null; // removed meanwhile
      }
    },
    health: s.health,
    batteryHistory: async (id, from, to) => (await s.telemetry.history(id, from, to, 0)).map((p) => ({ at: Date.parse(p.t), onBattery: p.onBattery === 1, pct: p.batteryPct })),
    displayNameOf: (username) => s.accounts.displayNameOf(username),
    audit: s.audit,
    onError,
  }, bus, clock);
  return alarms;
}
