import { and, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.ts';
import type { auditLog } from '../db/schema.ts';

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditQuery {
  actorId?: string;
  action?: string;
  targetId?: string;
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

/** The audit log's only writer. */
export class AuditRepo {
  constructor(private db: Db) {}

  async insert(row: typeof auditLog.$inferInsert, tx?: Tx): Promise<void> {
    const { auditLog } = this.db.t;
    await this.db.run(tx, (q) => q.insert(auditLog).values(row));
  }

  /** Newest first; every filter optional. */
  list(query: AuditQuery, tx?: Tx): Promise<AuditRow[]> {
    const { auditLog } = this.db.t;
    const where: SQL[] = [];
    if (query.actorId) where.push(eq(auditLog.actorId, query.actorId));
    if (query.action) where.push(eq(auditLog.action, query.action));
    if (query.targetId) where.push(eq(auditLog.targetId, query.targetId));
    if (query.from !== undefined) where.push(gte(auditLog.at, query.from));
    if (query.to !== undefined) where.push(lte(auditLog.at, query.to));
    return this.db.run(tx, (q) =>
      q
        .select()
        .from(auditLog)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(auditLog.id))
        .limit(query.limit ?? 100)
        .offset(query.offset ?? 0),
    );
  }
}
