import { and, desc, eq, gte } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { deviceEvents } from '../db/schema.ts';

export type DeviceEventRow = typeof deviceEvents.$inferSelect;

/** Device events, keyed by (cluster, event id). */
export class DeviceEventsRepo {
  constructor(private db: Db) {}

  /** False when the event is already stored (a device redelivering its offline buffer). */
  insert(row: typeof deviceEvents.$inferInsert): boolean {
    return this.db.insert(deviceEvents).values(row).onConflictDoNothing().run().changes > 0;
  }

  /** A cluster's events since `since` (device time), newest first. */
  list(clusterId: string, since: number, limit: number): DeviceEventRow[] {
    return this.db
      .select()
      .from(deviceEvents)
      .where(and(eq(deviceEvents.clusterId, clusterId), gte(deviceEvents.ts, since)))
      .orderBy(desc(deviceEvents.ts))
      .limit(limit)
      .all();
  }
}
