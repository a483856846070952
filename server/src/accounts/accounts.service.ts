import type { AuditEntry, AuditQuery, LoginResponse, Setup, UpdateSelf, User } from '../../../schemas/api/accounts.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Config } from '../config.ts';
import { ROLES, systemActor, type Actor, type Role } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import type { Tx } from '../db/tx.ts';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../shared/errors.ts';
import { dummyHash, hashPassword, needsRehash, verifyPassword } from './passwords.ts';
import type { SessionsRepo } from './sessions.repo.ts';
import { SetupToken } from './setup-token.ts';
import { hashToken, newToken } from './tokens.ts';
import { UserAdmin, userView } from './user-admin.ts';
import type { UserRow, UsersRepo } from './users.repo.ts';

export interface AccountsOptions {
  sessionTtlH: number;
  /** LOA_ADMIN_PASSWORD: creates user `admin` on first run; empty means first-run setup by link. */
  adminPassword: string;
}

/** What bootstrap needs of a logger (pino's satisfies it); services do not depend on Fastify. */
export interface BootLog {
  info(msg: string): void;
  warn(msg: string): void;
}

const BAD_LOGIN = 'wrong username or password';

/** Sign-in, sessions and first run. User administration is `users` (see user-admin.ts). */
export class AccountsService {
  readonly users: UserAdmin;
  private setupToken = new SetupToken();

  constructor(
    private repo: UsersRepo,
    private sessions: SessionsRepo,
    private areas: AreasService,
    private audit: AuditService,
    private clock: Clock,
    private options: AccountsOptions,
  ) {
    this.users = new UserAdmin(this.repo, this.sessions, areas, audit, clock);
  }

  /** First run: create `admin` from LOA_ADMIN_PASSWORD, or log a one-time setup link valid for 24 h. */
  async bootstrap(log: BootLog, config: Pick<Config, 'LOA_PUBLIC_URL' | 'LOA_HTTP_PORT'>): Promise<void> {
    if (!(await this.setupNeeded())) {
      if (this.options.adminPassword) log.warn('LOA_ADMIN_PASSWORD is ignored because an admin already exists; remove it from the environment');
      return;
    }
    if (this.options.adminPassword) {
      await this.users.create({ username: 'admin', password: this.options.adminPassword, role: 'admin' }, systemActor('bootstrap'), (tx) => this.assertSetupNeeded(tx));
      log.info('created user admin from LOA_ADMIN_PASSWORD');
      return;
    }
    const token = this.setupToken.issue(this.clock.now());
    const base = (config.LOA_PUBLIC_URL || `http://localhost:${config.LOA_HTTP_PORT}`).replace(/\/+$/, '');
    log.warn(`no admin exists yet: open ${base}/setup?token=${token} within 24 hours to create one (restart for a new link)`);
  }

  async setupNeeded(tx?: Tx): Promise<boolean> {
    return (await this.repo.adminCount(tx)) === 0;
  }

  /** The setup token while it is valid; for code in this process (tests). It is never sent over HTTP. */
  async pendingSetupToken(): Promise<string | null> {
    return (await this.setupNeeded()) ? this.setupToken.peek(this.clock.now()) : null;
  }

  private async assertSetupNeeded(tx?: Tx): Promise<void> {
    if (!(await this.setupNeeded(tx))) throw conflict('setup is already done; sign in instead');
  }

  /** Creates the first admin, exactly once, and signs them in. */
  async setup(input: Setup, ip?: string): Promise<LoginResponse> {
    await this.assertSetupNeeded();
    if (!this.setupToken.matches(input.token, this.clock.now())) throw unauthorized('invalid or expired setup token; restart the server for a new link');
    const actor: Actor = { ...systemActor('setup'), ip };
    const user = await this.users.create(
      { username: input.username ?? 'admin', password: input.password, displayName: input.displayName, role: 'admin' },
      actor,
      (tx) => this.assertSetupNeeded(tx),
    );
    this.setupToken.clear();
    return this.openSession((await this.repo.get(user.id))!, ip);
  }

  async login(username: string, password: string, ip?: string): Promise<LoginResponse> {
    const row = await this.repo.byUsername(username.trim().toLowerCase());
    const ok = await verifyPassword(password, row?.passwordHash ?? (await dummyHash()));
    // One answer for unknown user, wrong password and disabled account: the form must not confirm who exists.
    if (!row || !ok || row.disabledAt !== null) throw unauthorized(BAD_LOGIN);
    if (needsRehash(row.passwordHash)) await this.repo.update(row.id, { passwordHash: await hashPassword(password) });
    return this.openSession(row, ip);
  }

  private async openSession(row: UserRow, ip?: string): Promise<LoginResponse> {
    const token = newToken();
    const now = this.clock.now();
    const expiresAt = now + this.options.sessionTtlH * 3_600_000;
    await this.sessions.insert({ tokenHash: hashToken(token), userId: row.id, createdAt: now, expiresAt });
    const areaIds = await this.repo.areasOf(row.id);
    await this.audit.record({ id: row.id, name: row.username, role: row.role as Role, scope: 'all', ip }, 'session.login', { type: 'user', id: row.id });
    return { token, expiresAt: new Date(expiresAt).toISOString(), user: userView(row, areaIds) };
  }

  /** Null for a missing, unknown or expired token and for a disabled user; the caller answers 401. */
  async actorFromToken(token: string | undefined, ip?: string): Promise<Actor | null> {
    if (!token || token.length > 128) return null;
    const session = await this.sessions.get(hashToken(token));
    if (!session || session.expiresAt <= this.clock.now()) return null;
    const row = await this.repo.get(session.userId);
    if (!row || row.disabledAt !== null || !(ROLES as readonly string[]).includes(row.role)) return null;
    const areaIds = await this.repo.areasOf(row.id);
    // Fail closed: a non-admin whose areas were all deleted sees nothing rather than everything.
    const scope = this.areas.scopeOf(row.role === 'admin' && areaIds.length === 0 ? 'all' : areaIds);
    return { id: row.id, name: row.username, role: row.role as Role, scope, ip };
  }

  async logout(token: string | undefined, actor: Actor): Promise<void> {
    if (token) await this.sessions.delete(hashToken(token));
    await this.audit.record(actor, 'session.logout', { type: 'user', id: actor.id });
  }

  /** Signs the user out everywhere except the session given (the one making the change). */
  async changePassword(actor: Actor, currentPassword: string, newPassword: string, keepToken?: string): Promise<void> {
    const row = actor.id ? await this.repo.get(actor.id) : null;
    if (!row) throw notFound('user');
    if (!(await verifyPassword(currentPassword, row.passwordHash))) throw badRequest('current password is wrong', 'body/currentPassword');
    await this.repo.update(row.id, { passwordHash: await hashPassword(newPassword) });
    const revoked = await this.sessions.deleteForUser(row.id, keepToken ? hashToken(keepToken) : undefined);
    await this.audit.record(actor, 'user.password', { type: 'user', id: row.id }, { sessionsRevoked: revoked });
  }

  async me(actor: Actor): Promise<User> {
    const row = actor.id ? await this.repo.get(actor.id) : null;
    if (!row) throw notFound('user');
    return userView(row, await this.repo.areasOf(row.id));
  }

  async updateMe(actor: Actor, patch: UpdateSelf): Promise<User> {
    const user = await this.me(actor);
    await this.repo.update(user.id, patch);
    await this.audit.record(actor, 'user.update', { type: 'user', id: user.id }, patch);
    return this.me(actor);
  }

  /** Hourly job: expired sessions are already refused; this only reclaims their rows. */
  /** The name a person goes by (for "sent by", "approved by"), or null when the account has none or is gone. */
  async displayNameOf(username: string): Promise<string | null> {
    return (await this.repo.byUsername(username))?.displayName ?? null;
  }

  /** user id → the name they go by, for lists that store who did something by id. */
  namesOf(userIds: string[]): Promise<Map<string, string>> {
    return this.repo.namesOf(userIds);
  }

  pruneSessions(): Promise<number> {
    return this.sessions.deleteExpired(this.clock.now());
  }

  /** Admins of all areas only: entries are not tagged with areas, so a scoped admin would see other communes. */
  async auditLog(q: AuditQuery, actor: Actor): Promise<AuditEntry[]> {
    if (actor.scope !== 'all') throw forbidden('the audit log is open only to admins of all areas');
    const ms = (iso?: string) => (iso === undefined ? undefined : Date.parse(iso));
    return (await this.audit.list({ ...q, from: ms(q.from), to: ms(q.to) })).map((r) => ({ ...r, at: new Date(r.at).toISOString(), details: r.details ?? null }));
  }
}
