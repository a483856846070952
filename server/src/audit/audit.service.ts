import { and, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLog } from '../db/schema.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';

export interface AuditQuery {
  actorId?: string;
  action?: string;
  targetId?: string;
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

/** Who changed what, when and from where. Written in the same call as the change it records. */
export class AuditService {
  constructor(
    private db: Db,
    private clock: Clock,
  ) {}

  record(actor: Actor, action: string, target: { type: string; id?: string | null }, details?: unknown): void {
    this.db
      .insert(auditLog)
      .values({
        at: this.clock.now(),
        actorId: actor.id,
        actorName: actor.name,
        action,
        targetType: target.type,
        targetId: target.id ?? null,
        details: details ?? null,
        ip: actor.ip ?? null,
      })
      .run();
  }

  list(q: AuditQuery) {
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
