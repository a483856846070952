import { and, desc, eq, gte } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import type { deviceEvents } from '../db/schema.ts';

export type DeviceEventRow = typeof deviceEvents.$inferSelect;

/** Device events, keyed by (cluster, event id). */
export class DeviceEventsRepo {
  constructor(private db: Db) {}

  /** False when the event is already stored (a device redelivering its offline buffer). */
  async insert(row: typeof deviceEvents.$inferInsert, tx?: Tx): Promise<boolean> {
    const { deviceEvents } = this.db.t;
    const inserted = await this.db.run(tx, (q) => q.insert(deviceEvents).values(row).onConflictDoNothing().returning({ id: deviceEvents.eventId }));
    return inserted.length > 0;
  }

  /** A cluster's events since `since` (device time), newest first. */
  list(clusterId: string, since: number, limit: number, tx?: Tx): Promise<DeviceEventRow[]> {
    const { deviceEvents } = this.db.t;
    return this.db.run(tx, (q) =>
      q
        .select()
        .from(deviceEvents)
        .where(and(eq(deviceEvents.clusterId, clusterId), gte(deviceEvents.ts, since)))
        .orderBy(desc(deviceEvents.ts))
        .limit(limit),
    );
  }
}
