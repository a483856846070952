import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../server/src/app.ts';
import { loadConfig } from '../server/src/config.ts';
import { hashPassword, needsRehash, verifyPassword } from '../server/src/accounts/passwords.ts';

const ADMIN_PW = 'correct horse battery';
const PW = 'a long enough password';

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

/** A fake clock that tests move by hand. */
const fakeClock = (start = Date.UTC(2025, 6, 1, 8)) => ({ t: start, now() { return this.t; } });

async function makeApp(env: Record<string, string> = { LOA_ADMIN_PASSWORD: ADMIN_PW }, clock?: { now(): number }) {
  const app = await buildApp({ config: loadConfig({ LOA_DB_FILE: ':memory:', LOA_LOG_LEVEL: 'silent', ...env }), logger: false, clock });
  apps.push(app);
  await app.ready();
  const call = (method: InjectOptions['method'], url: string, body?: unknown, token?: string, extra: Partial<InjectOptions> = {}) =>
    app.inject({ method, url, payload: body as InjectOptions['payload'], headers: token ? { authorization: `Bearer ${token}` } : {}, ...extra });
  const login = async (username: string, password: string) => {
    const r = await call('POST', '/api/auth/login', { username, password });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().token as string;
  };
  return { app, call, login, accounts: app.loa.services.accounts };
}

/** Admin signed in, and a province with communes A (hamlet A1 under it) and B, each with one cluster. */
async function withAreas() {
  const t = await makeApp();
  const admin = await t.login('admin', ADMIN_PW);
  for (const a of [
    { id: 'prov', name: 'Tỉnh Thử', kind: 'province' },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'prov' },
    { id: 'ap-a1', name: 'Ấp A1', kind: 'hamlet', parentId: 'xa-a' },
    { id: 'xa-b', name: 'Xã B', kind: 'commune', parentId: 'prov' },
  ]) expect((await t.call('POST', '/api/areas', a, admin)).statusCode).toBe(201);
  const cluster = async (areaId: string) => {
    const r = await t.call('POST', '/api/clusters', { name: `Cụm ${areaId}`, areaId, serial: `SER-${areaId}`, outputs: [{ index: 0, label: 'Loa 1' }] }, admin);
    expect(r.statusCode, r.body).toBe(201);
    return r.json().cluster.id as string;
  };
  const clusterA = await cluster('ap-a1');
  const clusterB = await cluster('xa-b');
  const createUser = async (username: string, role: string, areaIds: string[]) => {
    const r = await t.call('POST', '/api/users', { username, password: PW, role, areaIds }, admin);
    expect(r.statusCode, r.body).toBe(201);
    return r.json().id as string;
  };
  return { ...t, admin, clusterA, clusterB, createUser };
}

describe('first run', () => {
  it('offers setup by a one-time token when no LOA_ADMIN_PASSWORD is set, and creates the admin exactly once', async () => {
    const { call, accounts } = await makeApp({});
    expect((await call('GET', '/api/auth/setup')).json()).toEqual({ needed: true });
    const token = (await accounts.pendingSetupToken())!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect((await call('POST', '/api/auth/setup', { token: 'guess', password: PW })).statusCode).toBe(401);
    const ok = await call('POST', '/api/auth/setup', { token, username: 'chutich', password: PW, displayName: 'Chủ tịch xã' });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().user).toMatchObject({ username: 'chutich', role: 'admin', areaIds: [], displayName: 'Chủ tịch xã' });
    expect((await call('GET', '/api/auth/me', undefined, ok.json().token)).json().username).toBe('chutich');

    expect((await call('GET', '/api/auth/setup')).json()).toEqual({ needed: false });
    expect(await accounts.pendingSetupToken()).toBeNull();
    const again = await call('POST', '/api/auth/setup', { token, username: 'intruder', password: PW });
    expect(again.statusCode).toBe(409);
  });

  it('lets only one of two simultaneous setups through', async () => {
    const { call, accounts } = await makeApp({});
    const token = (await accounts.pendingSetupToken())!;
    const codes = await Promise.all(['first', 'second'].map((username) => call('POST', '/api/auth/setup', { token, username, password: PW })));
    expect(codes.map((r) => r.statusCode).sort()).toEqual([201, 409]);
  });

  it('logs the setup link under LOA_PUBLIC_URL', async () => {
    const { accounts } = await makeApp({});
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    await accounts.bootstrap(log, { LOA_PUBLIC_URL: 'https://loa.xa-an-binh.vn/', LOA_HTTP_PORT: 8080 });
    expect(lines.join('\n')).toContain(`https://loa.xa-an-binh.vn/setup?token=${await accounts.pendingSetupToken()}`);
  });

  it('expires the setup token after 24 hours', async () => {
    const clock = fakeClock();
    const { call, accounts } = await makeApp({}, clock);
    const token = (await accounts.pendingSetupToken())!;
    clock.t += 24 * 3_600_000 + 1;
    expect(await accounts.pendingSetupToken()).toBeNull();
    expect((await call('POST', '/api/auth/setup', { token, password: PW })).statusCode).toBe(401);
  });

  it('creates user admin from LOA_ADMIN_PASSWORD and offers no setup', async () => {
    const { call, login, accounts } = await makeApp();
    expect((await call('GET', '/api/auth/setup')).json()).toEqual({ needed: false });
    expect(await accounts.pendingSetupToken()).toBeNull();
    const me = await call('GET', '/api/auth/me', undefined, await login('admin', ADMIN_PW));
    expect(me.json()).toMatchObject({ username: 'admin', role: 'admin', areaIds: [], disabled: false });
  });
});

describe('sign-in', () => {
  it('refuses a wrong password and an unknown user with the same answer', async () => {
    const { call } = await makeApp();
    const wrong = await call('POST', '/api/auth/login', { username: 'admin', password: 'not the password' });
    const unknown = await call('POST', '/api/auth/login', { username: 'nobody', password: 'not the password' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
  });

  it('accepts the token as a bearer header and as the HttpOnly SameSite=Strict cookie', async () => {
    const { call } = await makeApp({ LOA_ADMIN_PASSWORD: ADMIN_PW, LOA_TRUST_PROXY: 'true' });
    const r = await call('POST', '/api/auth/login', { username: 'Admin', password: ADMIN_PW }, undefined, { headers: { 'x-forwarded-proto': 'https' } });
    const cookie = r.cookies.find((c) => c.name === 'loa_session')!;
    expect(cookie).toMatchObject({ value: r.json().token, httpOnly: true, sameSite: 'Strict', secure: true, path: '/' });
    expect((await call('GET', '/api/areas', undefined, r.json().token)).statusCode).toBe(200);
    expect((await call('GET', '/api/areas', undefined, undefined, { cookies: { loa_session: cookie.value } })).statusCode).toBe(200);
  });

  it('answers 401 on /api without a valid session, but 404 on unknown paths', async () => {
    const { call } = await makeApp();
    const none = await call('GET', '/api/areas');
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect((await call('GET', '/api/areas', undefined, 'not-a-real-token')).statusCode).toBe(401);
    expect((await call('GET', '/api/no-such-thing')).statusCode).toBe(404);
  });

  it('ends the session on logout', async () => {
    const { call, login } = await makeApp();
    const token = await login('admin', ADMIN_PW);
    expect((await call('POST', '/api/auth/logout', undefined, token)).statusCode).toBe(204);
    expect((await call('GET', '/api/auth/me', undefined, token)).statusCode).toBe(401);
  });

  it('rejects an expired session and prunes it', async () => {
    const clock = fakeClock();
    const { call, login, accounts } = await makeApp({ LOA_ADMIN_PASSWORD: ADMIN_PW, LOA_SESSION_TTL_H: '2' }, clock);
    const token = await login('admin', ADMIN_PW);
    clock.t += 2 * 3_600_000 - 1;
    expect((await call('GET', '/api/auth/me', undefined, token)).statusCode).toBe(200);
    clock.t += 1;
    expect((await call('GET', '/api/auth/me', undefined, token)).statusCode).toBe(401);
    expect(await accounts.pruneSessions()).toBe(1);
  });

  it('rate-limits guessing one account per IP (429) without blocking other accounts', async () => {
    const { call } = await makeApp();
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await call('POST', '/api/auth/login', { username: 'admin', password: `guess-${i}` })).statusCode);
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes[10]).toBe(429);
    expect((await call('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PW })).statusCode).toBe(429);
    expect((await call('POST', '/api/auth/login', { username: 'someone', password: 'x' })).statusCode).toBe(401);
  });
});

describe('roles and scope', () => {
  it('gives 403 to a role the route does not allow', async () => {
    const { call, login, createUser } = await withAreas();
    await createUser('viewer-a', 'viewer', ['xa-a']);
    const viewer = await login('viewer-a', PW);
    const r = await call('GET', '/api/users', undefined, viewer);
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect((await call('GET', '/api/audit', undefined, viewer)).statusCode).toBe(403);
  });

  it('shows a user scoped to commune A only the areas and clusters of A', async () => {
    const { call, login, createUser, clusterA, clusterB } = await withAreas();
    await createUser('op-a', 'operator', ['xa-a']);
    const op = await login('op-a', PW);
    const areas = (await call('GET', '/api/areas', undefined, op)).json().map((a: { id: string }) => a.id);
    expect(areas.sort()).toEqual(['ap-a1', 'xa-a']);
    expect((await call('GET', '/api/areas/xa-b', undefined, op)).statusCode).toBe(404);
    const clusters = (await call('GET', '/api/clusters', undefined, op)).json().items.map((c: { id: string }) => c.id);
    expect(clusters).toEqual([clusterA]);
    expect((await call('GET', `/api/clusters/${clusterB}`, undefined, op)).statusCode).toBe(404);
  });

  it('lets an admin scoped to A manage only users inside A', async () => {
    const { call, login, createUser } = await withAreas();
    await createUser('admin-a', 'admin', ['xa-a']);
    await createUser('tech-b', 'technician', ['xa-b']);
    const adminA = await login('admin-a', PW);
    const names = (await call('GET', '/api/users', undefined, adminA)).json().map((u: { username: string }) => u.username);
    expect(names).toEqual(['admin-a']);
    expect((await call('POST', '/api/users', { username: 'op-b', password: PW, role: 'operator', areaIds: ['xa-b'] }, adminA)).statusCode).toBe(403);
    expect((await call('POST', '/api/users', { username: 'root2', password: PW, role: 'admin' }, adminA)).statusCode).toBe(403);
    expect((await call('POST', '/api/users', { username: 'op-a1', password: PW, role: 'operator', areaIds: ['ap-a1'] }, adminA)).statusCode).toBe(201);
    expect((await call('GET', '/api/audit', undefined, adminA)).statusCode).toBe(403);
  });

  it('requires at least one existing area for anyone but an admin', async () => {
    const { call, admin } = await withAreas();
    const none = await call('POST', '/api/users', { username: 'op', password: PW, role: 'operator' }, admin);
    expect(none.json()).toMatchObject({ statusCode: 400, field: 'body/areaIds' });
    const missing = await call('POST', '/api/users', { username: 'op', password: PW, role: 'operator', areaIds: ['xa-z'] }, admin);
    expect(missing.json()).toMatchObject({ statusCode: 400, field: 'body/areaIds' });
  });
});

describe('user administration', () => {
  it('never removes, demotes or disables the last admin of all areas', async () => {
    const { call, admin } = await withAreas();
    const me = (await call('GET', '/api/auth/me', undefined, admin)).json();
    expect((await call('DELETE', `/api/users/${me.id}`, undefined, admin)).statusCode).toBe(409);
    expect((await call('PATCH', `/api/users/${me.id}`, { role: 'operator', areaIds: ['xa-a'] }, admin)).statusCode).toBe(409);
    expect((await call('PATCH', `/api/users/${me.id}`, { disabled: true }, admin)).statusCode).toBe(409);
    const other = await call('POST', '/api/users', { username: 'admin2', password: PW, role: 'admin' }, admin);
    expect((await call('PATCH', `/api/users/${other.json().id}`, { disabled: true }, admin)).statusCode).toBe(200);
    expect((await call('DELETE', `/api/users/${me.id}`, undefined, admin)).statusCode).toBe(409);
    expect((await call('PATCH', `/api/users/${other.json().id}`, { disabled: false }, admin)).statusCode).toBe(200);
    expect((await call('DELETE', `/api/users/${me.id}`, undefined, admin)).statusCode).toBe(204);
  });

  it('refuses a disabled user, including sessions opened before', async () => {
    const { call, login, admin, createUser } = await withAreas();
    const id = await createUser('tech-a', 'technician', ['xa-a']);
    const tech = await login('tech-a', PW);
    expect((await call('PATCH', `/api/users/${id}`, { disabled: true }, admin)).json().disabled).toBe(true);
    expect((await call('GET', '/api/auth/me', undefined, tech)).statusCode).toBe(401);
    expect((await call('POST', '/api/auth/login', { username: 'tech-a', password: PW })).statusCode).toBe(401);
  });

  it('signs out other sessions when a user changes their password', async () => {
    const { call, login, createUser } = await withAreas();
    await createUser('op-a', 'operator', ['xa-a']);
    const here = await login('op-a', PW);
    const elsewhere = await login('op-a', PW);
    const wrong = await call('POST', '/api/auth/password', { currentPassword: 'not it at all', newPassword: 'a brand new passphrase' }, here);
    expect(wrong.json()).toMatchObject({ statusCode: 400, field: 'body/currentPassword' });
    const ok = await call('POST', '/api/auth/password', { currentPassword: PW, newPassword: 'a brand new passphrase' }, here);
    expect(ok.statusCode).toBe(204);
    expect((await call('GET', '/api/auth/me', undefined, here)).statusCode).toBe(200);
    expect((await call('GET', '/api/auth/me', undefined, elsewhere)).statusCode).toBe(401);
    expect((await call('POST', '/api/auth/login', { username: 'op-a', password: PW })).statusCode).toBe(401);
    await login('op-a', 'a brand new passphrase');
  });

  it('names the offending field in validation errors', async () => {
    const { call, admin } = await withAreas();
    const short = await call('POST', '/api/users', { username: 'op', password: 'short', role: 'operator', areaIds: ['xa-a'] }, admin);
    expect(short.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'body/password' });
    const noName = await call('POST', '/api/users', { password: PW, role: 'operator', areaIds: ['xa-a'] }, admin);
    expect(noName.json()).toMatchObject({ statusCode: 400, field: 'body/username' });
    const taken = await call('POST', '/api/users', { username: 'admin', password: PW, role: 'admin' }, admin);
    expect(taken.json()).toMatchObject({ statusCode: 409, field: 'body/username' });
  });

  it('records user creation in the audit log with actor and IP, for admins only', async () => {
    const { call, admin } = await withAreas();
    const me = (await call('GET', '/api/auth/me', undefined, admin)).json();
    const created = await call('POST', '/api/users', { username: 'op-a', password: PW, role: 'operator', areaIds: ['xa-a'] }, admin, { remoteAddress: '10.20.30.40' });
    const log = await call('GET', `/api/audit?action=user.create&targetId=${created.json().id}`, undefined, admin);
    expect(log.statusCode).toBe(200);
    expect(log.json()).toEqual([
      expect.objectContaining({ action: 'user.create', actorId: me.id, actorName: 'admin', ip: '10.20.30.40', targetType: 'user', details: { username: 'op-a', role: 'operator', areaIds: ['xa-a'] } }),
    ]);
    expect(JSON.stringify((await call('GET', '/api/audit?limit=1000', undefined, admin)).json())).not.toContain(PW);
  });
});

describe('password hashing', () => {
  it('stores scrypt parameters with a random salt and verifies in constant time', async () => {
    const a = await hashPassword('mật khẩu dài đủ');
    const b = await hashPassword('mật khẩu dài đủ');
    expect(a).toMatch(/^scrypt\$65536\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('mật khẩu dài đủ', a)).toBe(true);
    // The same words typed as decomposed Unicode (as some keyboards send them) still match.
    expect(await verifyPassword('mật khẩu dài đủ'.normalize('NFD'), a)).toBe(true);
    expect(await verifyPassword('mat khau dai du', a)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1073741824$8$1$AAAA$AAAA')).toBe(false);
    expect(needsRehash(a)).toBe(false);
    expect(needsRehash('scrypt$16384$8$1$AAAA$AAAA')).toBe(true);
  });
});
