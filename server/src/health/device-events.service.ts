import type { DeviceEvent } from '../../../schemas/device-protocol/events.ts';
import { and, desc, eq, gte } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { deviceEvents } from '../db/schema.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { Bus } from '../shared/bus.ts';

/** Device events, stored once each: a device redelivering its offline buffer is deduplicated by event id. */
export class DeviceEventsService {
  constructor(
    private db: Db,
    private directory: DeviceDirectory,
    private bus: Bus,
  ) {}

  ingest(clusterId: string, e: DeviceEvent, receivedAt: number): boolean {
    const areaId = this.directory.areaOf(clusterId);
    if (!areaId) return false;
    const res = this.db
      .insert(deviceEvents)
      .values({ clusterId, eventId: e.id, ts: e.ts, receivedAt, type: e.type, payload: e })
      .onConflictDoNothing()
      .run();
    if (res.changes === 0) return false;
    this.bus.emit('cluster.event', { clusterId, areaId, type: e.type, ts: e.ts, eventId: e.id });
    return true;
  }

  list(clusterId: string, since = 0, limit = 200) {
    return this.db
      .select()
      .from(deviceEvents)
      .where(and(eq(deviceEvents.clusterId, clusterId), gte(deviceEvents.ts, since)))
      .orderBy(desc(deviceEvents.ts))
      .limit(limit)
      .all()
      .map((r) => ({ ...(r.payload as DeviceEvent), receivedAt: new Date(r.receivedAt).toISOString() }));
  }
}
