import type { CreateUser, UpdateUser, User } from '../../../schemas/api/accounts.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Actor, Role } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import type { Tx } from '../db/tx.ts';
import { badRequest, conflict, forbidden, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { hashPassword } from './passwords.ts';
import type { SessionsRepo } from './sessions.repo.ts';
import type { UserRow, UsersRepo } from './users.repo.ts';

export function userView(row: UserRow, areaIds: string[]): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    role: row.role as Role,
    areaIds,
    locale: row.locale === 'en' ? 'en' : 'vi',
    disabled: row.disabledAt !== null,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

/** An active admin bound to no area: someone who can still manage everything. One must always remain. */
const isRoot = (role: string, disabled: boolean, areaIds: string[]) => role === 'admin' && !disabled && areaIds.length === 0;

/**
 * User administration. An admin bound to areas manages only users whose areas all lie inside their own, and can
 * grant nothing wider; only an admin of all areas can create another one.
 */
export class UserAdmin {
  constructor(
    private repo: UsersRepo,
    private sessions: SessionsRepo,
    private areas: AreasService,
    private audit: AuditService,
    private clock: Clock,
  ) {}

  private manages(actor: Actor, areaIds: string[]): boolean {
    const { scope } = actor;
    return scope === 'all' || (areaIds.length > 0 && areaIds.every((id) => this.areas.inScope(scope, id)));
  }

  private checkAreas(role: Role, areaIds: string[], actor: Actor): void {
    const missing = areaIds.find((id) => !this.areas.exists(id));
    if (missing) throw badRequest(`area ${missing} does not exist`, 'body/areaIds');
    if (role !== 'admin' && areaIds.length === 0) throw badRequest('a user other than an admin needs at least one area', 'body/areaIds');
    if (!this.manages(actor, areaIds)) throw forbidden('you can only grant areas within your own');
  }

  private async row(id: string, actor: Actor, tx?: Tx): Promise<{ row: UserRow; areaIds: string[] }> {
    const row = await this.repo.get(id, tx);
    const areaIds = row ? await this.repo.areasOf(id, tx) : [];
    if (!row || !this.manages(actor, areaIds)) throw notFound('user');
    return { row, areaIds };
  }

  private async otherRoots(id: string, tx?: Tx): Promise<number> {
    const areas = await this.repo.allAreas(tx);
    return (await this.repo.all(tx)).filter((u) => u.id !== id && isRoot(u.role, u.disabledAt !== null, areas.get(u.id) ?? [])).length;
  }

  async list(actor: Actor): Promise<User[]> {
    const areas = await this.repo.allAreas();
    return (await this.repo.all())
      .map((u) => userView(u, areas.get(u.id) ?? []))
      .filter((u) => this.manages(actor, u.areaIds));
  }

  async get(id: string, actor: Actor): Promise<User> {
    const { row, areaIds } = await this.row(id, actor);
    return userView(row, areaIds);
  }

  /**
   * Hashing comes first, outside the transaction; every check then runs in one transaction with the write, so a
   * concurrent request cannot slip in between. `guard` is an extra such check, given the transaction (first-run
   * setup uses it).
   */
  async create(input: CreateUser, actor: Actor, guard?: (tx: Tx) => Promise<void>): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    const areaIds = input.areaIds ?? [];
    const id = newId('us');
    await this.repo.transaction(async (tx) => {
      await guard?.(tx);
      this.checkAreas(input.role, areaIds, actor);
      if (await this.repo.byUsername(input.username, tx)) throw conflict(`username ${input.username} is taken`, 'body/username');
      await this.repo.insert({ id, username: input.username, displayName: input.displayName ?? null, passwordHash, role: input.role, locale: input.locale ?? 'vi', createdAt: this.clock.now() }, areaIds, tx);
    });
    await this.audit.record(actor, 'user.create', { type: 'user', id }, { username: input.username, role: input.role, areaIds });
    return this.get(id, actor);
  }

  async update(id: string, patch: UpdateUser, actor: Actor): Promise<User> {
    const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    // The checks (the last admin of all areas stays one) and the writes in one transaction.
    await this.repo.transaction(async (tx) => {
      const { row, areaIds } = await this.row(id, actor, tx);
      const role = patch.role ?? (row.role as Role);
      const nextAreas = patch.areaIds ?? areaIds;
      const disabled = patch.disabled ?? row.disabledAt !== null;
      if (patch.role !== undefined || patch.areaIds !== undefined) this.checkAreas(role, nextAreas, actor);
      if (isRoot(row.role, row.disabledAt !== null, areaIds) && !isRoot(role, disabled, nextAreas) && (await this.otherRoots(id, tx)) === 0) {
        throw conflict('this is the last admin with access to all areas; make another one first');
      }
      await this.repo.update(
        id,
        {
          ...(patch.displayName !== undefined && { displayName: patch.displayName }),
          ...(patch.locale !== undefined && { locale: patch.locale }),
          ...(patch.role !== undefined && { role }),
          ...(patch.disabled !== undefined && { disabledAt: disabled ? (row.disabledAt ?? this.clock.now()) : null }),
          ...(passwordHash !== undefined && { passwordHash }),
        },
        patch.areaIds,
        tx,
      );
      // A reset password or a disabled account must not leave a signed-in browser behind.
      if (passwordHash !== undefined || (disabled && row.disabledAt === null)) await this.sessions.deleteForUser(id, undefined, tx);
    });
    const { password, ...details } = patch;
    await this.audit.record(actor, 'user.update', { type: 'user', id }, { ...details, ...(password !== undefined && { passwordReset: true }) });
    return this.get(id, actor);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    // The check (the last admin of all areas stays) and the delete in one transaction.
    const row = await this.repo.transaction(async (tx) => {
      const { row, areaIds } = await this.row(id, actor, tx);
      if (isRoot(row.role, row.disabledAt !== null, areaIds) && (await this.otherRoots(id, tx)) === 0) {
        throw conflict('this is the last admin with access to all areas; make another one first');
      }
      await this.repo.delete(id, tx);
      return row;
    });
    await this.audit.record(actor, 'user.delete', { type: 'user', id }, { username: row.username });
  }
}
