import { and, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';

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

  insert(row: typeof auditLog.$inferInsert): void {
    this.db.insert(auditLog).values(row).run();
  }

  /** Newest first; every filter optional. */
  list(q: AuditQuery): AuditRow[] {
    const where: SQL[] = [];
    if (q.actorId) where.push(eq(auditLog.actorId, q.actorId));
    if (q.action) where.push(eq(auditLog.action, q.action));
    if (q.targetId) where.push(eq(auditLog.targetId, q.targetId));
    if (q.from !== undefined) where.push(gte(auditLog.at, q.from));
    if (q.to !== undefined) where.push(lte(auditLog.at, q.to));
    return this.db
      .select()
      .from(auditLog)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(q.limit ?? 100)
      .offset(q.offset ?? 0)
      .all();
  }
}
