import type { DeviceEvent } from '../../../schemas/device-protocol/events.ts';
import type { DeviceEventsRepo } from './device-events.repo.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { Bus } from '../shared/bus.ts';

/** Device events, stored once each: a device redelivering its offline buffer is deduplicated by event id. */
export class DeviceEventsService {
  constructor(
    private repo: DeviceEventsRepo,
    private directory: DeviceDirectory,
    private bus: Bus,
  ) {}

  async ingest(clusterId: string, e: DeviceEvent, receivedAt: number): Promise<boolean> {
    const areaId = this.directory.areaOf(clusterId);
    if (!areaId) return false;
    if (!(await this.repo.insert({ clusterId, eventId: e.id, ts: e.ts, receivedAt, type: e.type, payload: e }))) return false;
    this.bus.emit('cluster.event', { clusterId, areaId, type: e.type, ts: e.ts, eventId: e.id });
    return true;
  }

  async list(clusterId: string, since = 0, limit = 200) {
    return (await this.repo.list(clusterId, since, limit)).map((r) => ({ ...(r.payload as DeviceEvent), receivedAt: new Date(r.receivedAt).toISOString() }));
  }
}
