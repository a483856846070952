import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type {} from '@fastify/rate-limit';
import { Type } from '@sinclair/typebox';
import {
  AuditEntrySchema, AuditQuerySchema, ChangePasswordSchema, CreateUserSchema, LoginResponseSchema, LoginSchema,
  SetupSchema, SetupStatusSchema, UpdateSelfSchema, UpdateUserSchema, UserSchema, type LoginResponse,
} from '../../../schemas/api/accounts.ts';
import { ErrorBodySchema, IdSchema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';
import { SESSION_COOKIE, sessionToken } from './auth.plugin.ts';

const params = Type.Object({ id: IdSchema });
const authTags = ['auth'];
const tags = ['users'];
const admin = { roles: ['admin'] } as const;
const err = ErrorBodySchema;

/** Per IP and username: slows guessing one account without letting one office's NAT lock everyone out. */
const loginLimit = {
  max: 10,
  timeWindow: '1 minute',
  hook: 'preHandler' as const, // after body parsing, so the key can include the username
  keyGenerator: (req: FastifyRequest) => `${req.ip}|${String((req.body as { username?: unknown })?.username ?? '').trim().toLowerCase()}`,
};

// SameSite=Strict keeps the cookie off cross-site requests, which is what stops CSRF for the console.
function signIn(req: FastifyRequest, reply: FastifyReply, session: LoginResponse) {
  reply.setCookie(SESSION_COOKIE, session.token, { httpOnly: true, sameSite: 'strict', secure: req.protocol === 'https', path: '/', expires: new Date(session.expiresAt) });
  return session;
}

export const accountsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  const a = s.accounts;

  // Public: this is how one signs in.
  app.post('/auth/login', { config: { auth: 'public', rateLimit: loginLimit }, schema: { tags: authTags, security: [], body: LoginSchema, response: { 200: LoginResponseSchema, 400: err, 401: err, 429: err } } }, async (req, reply) =>
    signIn(req, reply, await a.login(req.body.username, req.body.password, req.ip)));

  app.post('/auth/logout', { schema: { tags: authTags, response: { 204: Type.Null() } } }, async (req, reply) => {
    await a.logout(sessionToken(req), req.actor);
    return reply.clearCookie(SESSION_COOKIE, { path: '/' }).status(204).send(null);
  });

  app.get('/auth/me', { schema: { tags: authTags, response: { 200: UserSchema } } }, async (req) => a.me(req.actor));

  app.patch('/auth/me', { schema: { tags: authTags, body: UpdateSelfSchema, response: { 200: UserSchema } } }, async (req) => a.updateMe(req.actor, req.body));

  app.post('/auth/password', {
    config: { rateLimit: { ...loginLimit, keyGenerator: (req: FastifyRequest) => `${req.ip}|${req.actor?.id}` } },
    schema: { tags: authTags, description: 'Changes your own password and signs out every other session.', body: ChangePasswordSchema, response: { 204: Type.Null(), 400: err, 429: err } },
  }, async (req, reply) => {
    await a.changePassword(req.actor, req.body.currentPassword, req.body.newPassword, sessionToken(req));
    return reply.status(204).send(null);
  });

  // Public: before the first admin exists nobody can sign in; the console asks this to decide what to show.
  app.get('/auth/setup', { config: { auth: 'public' }, schema: { tags: authTags, security: [], response: { 200: SetupStatusSchema } } }, async () => ({ needed: await a.setupNeeded() }));

  // Public: creates the first admin with the one-time token from the server log; refused (409) ever after.
  app.post('/auth/setup', {
    config: { auth: 'public', rateLimit: { ...loginLimit, keyGenerator: (req: FastifyRequest) => req.ip } },
    schema: { tags: authTags, security: [], body: SetupSchema, response: { 201: LoginResponseSchema, 400: err, 401: err, 409: err, 429: err } },
  }, async (req, reply) => reply.status(201).send(signIn(req, reply, await a.setup(req.body, req.ip))));

  app.get('/users', { config: admin, schema: { tags, response: { 200: Type.Array(UserSchema) } } }, async (req) => a.users.list(req.actor));

  app.post('/users', { config: admin, schema: { tags, body: CreateUserSchema, response: { 201: UserSchema, 400: err, 403: err, 409: err } } }, async (req, reply) =>
    reply.status(201).send(await a.users.create(req.body, req.actor)));

  app.get('/users/:id', { config: admin, schema: { tags, params, response: { 200: UserSchema } } }, async (req) => a.users.get(req.params.id, req.actor));

  app.patch('/users/:id', {
    config: admin,
    schema: { tags, params, description: 'Disabling a user or setting a password signs them out everywhere.', body: UpdateUserSchema, response: { 200: UserSchema, 400: err, 403: err, 409: err } },
  }, async (req) => a.users.update(req.params.id, req.body, req.actor));

  app.delete('/users/:id', { config: admin, schema: { tags, params, response: { 204: Type.Null(), 409: err } } }, async (req, reply) => {
    await a.users.delete(req.params.id, req.actor);
    return reply.status(204).send(null);
  });

  app.get('/audit', { config: admin, schema: { tags: ['audit'], querystring: AuditQuerySchema, response: { 200: Type.Array(AuditEntrySchema) } } }, async (req) =>
    a.auditLog(req.query, req.actor));
};
