import type { Tx } from '../db/tx.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import type { AuditQuery, AuditRepo, AuditRow } from './audit.repo.ts';

export type { AuditQuery } from './audit.repo.ts';

/**
 * Who changed what, when and from where. Written in the same call as the change it records: awaited before the call
 * answers; given the change's transaction (`tx`) when made inside one, which it then commits or rolls back with.
 */
export class AuditService {
  constructor(
    private repo: AuditRepo,
    private clock: Clock,
  ) {}

  record(actor: Actor, action: string, target: { type: string; id?: string | null }, details?: unknown, tx?: Tx): Promise<void> {
    return this.repo.insert(
      {
        at: this.clock.now(),
        actorId: actor.id,
        actorName: actor.name,
        action,
        targetType: target.type,
        targetId: target.id ?? null,
        details: details ?? null,
        ip: actor.ip ?? null,
      },
      tx,
    );
  }

  list(q: AuditQuery): Promise<AuditRow[]> {
    return this.repo.list(q);
  }
}
