import type { CreateUser, UpdateUser, User } from '../../../schemas/api/accounts.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Actor, Role } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
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

  private row(id: string, actor: Actor): { row: UserRow; areaIds: string[] } {
    const row = this.repo.get(id);
    const areaIds = row ? this.repo.areasOf(id) : [];
    if (!row || !this.manages(actor, areaIds)) throw notFound('user');
    return { row, areaIds };
  }

  private otherRoots(id: string): number {
    const areas = this.repo.allAreas();
    return this.repo.all().filter((u) => u.id !== id && isRoot(u.role, u.disabledAt !== null, areas.get(u.id) ?? [])).length;
  }

  list(actor: Actor): User[] {
    const areas = this.repo.allAreas();
    return this.repo
      .all()
      .map((u) => userView(u, areas.get(u.id) ?? []))
      .filter((u) => this.manages(actor, u.areaIds));
  }

  get(id: string, actor: Actor): User {
    const { row, areaIds } = this.row(id, actor);
    return userView(row, areaIds);
  }

  /**
   * Hashing is the only await; every check runs after it, in the same tick as the write, so a concurrent request
   * cannot slip in between. `guard` is an extra such check (first-run setup uses it).
   */
  async create(input: CreateUser, actor: Actor, guard?: () => void): Promise<User> {
    const passwordHash = await hashPassword(input.password);
    const areaIds = input.areaIds ?? [];
    guard?.();
    this.checkAreas(input.role, areaIds, actor);
    if (this.repo.byUsername(input.username)) throw conflict(`username ${input.username} is taken`, 'body/username');
    const id = newId('us');
    this.repo.insert({ id, username: input.username, displayName: input.displayName ?? null, passwordHash, role: input.role, locale: input.locale ?? 'vi', createdAt: this.clock.now() }, areaIds);
    this.audit.record(actor, 'user.create', { type: 'user', id }, { username: input.username, role: input.role, areaIds });
    return this.get(id, actor);
  }

  async update(id: string, patch: UpdateUser, actor: Actor): Promise<User> {
    const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
    const { row, areaIds } = this.row(id, actor);
    const role = patch.role ?? (row.role as Role);
    const nextAreas = patch.areaIds ?? areaIds;
    const disabled = patch.disabled ?? row.disabledAt !== null;
    if (patch.role !== undefined || patch.areaIds !== undefined) this.checkAreas(role, nextAreas, actor);
    if (isRoot(row.role, row.disabledAt !== null, areaIds) && !isRoot(role, disabled, nextAreas) && this.otherRoots(id) === 0) {
      throw conflict('this is the last admin with access to all areas; make another one first');
    }
    this.repo.update(
      id,
      {
        ...(patch.displayName !== undefined && { displayName: patch.displayName }),
        ...(patch.locale !== undefined && { locale: patch.locale }),
        ...(patch.role !== undefined && { role }),
        ...(patch.disabled !== undefined && { disabledAt: disabled ? (row.disabledAt ?? this.clock.now()) : null }),
        ...(passwordHash !== undefined && { passwordHash }),
      },
      patch.areaIds,
    );
    // A reset password or a disabled account must not leave a signed-in browser behind.
    if (passwordHash !== undefined || (disabled && row.disabledAt === null)) this.sessions.deleteForUser(id);
    const { password, ...details } = patch;
    this.audit.record(actor, 'user.update', { type: 'user', id }, { ...details, ...(password !== undefined && { passwordReset: true }) });
    return this.get(id, actor);
  }

  delete(id: string, actor: Actor): void {
    const { row, areaIds } = this.row(id, actor);
    if (isRoot(row.role, row.disabledAt !== null, areaIds) && this.otherRoots(id) === 0) {
      throw conflict('this is the last admin with access to all areas; make another one first');
    }
    this.repo.delete(id);
    this.audit.record(actor, 'user.delete', { type: 'user', id }, { username: row.username });
  }
}
