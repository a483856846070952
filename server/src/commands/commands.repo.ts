import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { commands } from '../db/schema.ts';

export type CommandRow = typeof commands.$inferSelect;

/** Commands sent to clusters and how each was closed. */
export class CommandsRepo {
  constructor(private db: Db) {}

  async insert(row: CommandRow, tx?: Tx): Promise<void> {
    const { commands } = this.db.t;
    await this.db.run(tx, (q) => q.insert(commands).values(row));
  }

  /** Closes a still-open (`sent` or provisionally `expired`) command of this cluster; false when none matched. */
  async close(clusterId: string, id: string, outcome: Pick<CommandRow, 'state' | 'reason' | 'repliedAt'>, tx?: Tx): Promise<boolean> {
    const { commands } = this.db.t;
    const rows = await this.db.run(tx, (q) =>
      q
        .update(commands)
        .set(outcome)
        .where(and(eq(commands.id, id), eq(commands.clusterId, clusterId), inArray(commands.state, ['sent', 'expired'])))
        .returning({ id: commands.id }),
    );
    return rows.length > 0;
  }

  get(id: string, tx?: Tx): Promise<CommandRow | null> {
    const { commands } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(commands).where(eq(commands.id, id)).limit(1)).then(first);
  }

  /** A cluster's latest commands, newest first. */
  listByCluster(clusterId: string, limit: number, tx?: Tx): Promise<CommandRow[]> {
    const { commands } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(commands).where(eq(commands.clusterId, clusterId)).orderBy(desc(commands.issuedAt)).limit(limit));
  }

  /** Marks `expired` every `sent` command whose expiry is before `at`; returns how many. */
  async expireBefore(at: number, tx?: Tx): Promise<number> {
    const { commands } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.update(commands).set({ state: 'expired' }).where(and(eq(commands.state, 'sent'), lt(commands.expiresAt, at))).returning({ id: commands.id }));
    return rows.length;
  }
}
