import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { commands } from '../db/schema.ts';

export type CommandRow = typeof commands.$inferSelect;

/** Commands sent to clusters and how each was closed. */
export class CommandsRepo {
  constructor(private db: Db) {}

  insert(row: CommandRow): void {
    this.db.insert(commands).values(row).run();
  }

  /** Closes a still-open (`sent` or provisionally `expired`) command of this cluster; false when none matched. */
  close(clusterId: string, id: string, outcome: Pick<CommandRow, 'state' | 'reason' | 'repliedAt'>): boolean {
    return (
      this.db
        .update(commands)
        .set(outcome)
        .where(and(eq(commands.id, id), eq(commands.clusterId, clusterId), inArray(commands.state, ['sent', 'expired'])))
        .run().changes > 0
    );
  }

  get(id: string): CommandRow | null {
    return this.db.select().from(commands).where(eq(commands.id, id)).get() ?? null;
  }

  /** A cluster's latest commands, newest first. */
  listByCluster(clusterId: string, limit: number): CommandRow[] {
    return this.db.select().from(commands).where(eq(commands.clusterId, clusterId)).orderBy(desc(commands.issuedAt)).limit(limit).all();
  }

  /** Marks `expired` every `sent` command whose expiry is before `at`; returns how many. */
  expireBefore(at: number): number {
    return this.db.update(commands).set({ state: 'expired' }).where(and(eq(commands.state, 'sent'), lt(commands.expiresAt, at))).run().changes;
  }
}
