import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import type { Services } from '../services.ts';
import type { Actor } from '../shared/actor.ts';
import { AppError, forbidden, unauthorized } from '../shared/errors.ts';
import { fromOwnOrigin } from '../http/security.ts';

export const SESSION_COOKIE = 'loa_session';

const BEARER = /^Bearer ([A-Za-z0-9_-]+)$/;
const hasBearer = (req: FastifyRequest) => BEARER.test(req.headers.authorization ?? '');

/** The session token of a request: `Authorization: Bearer` (API clients) or the `loa_session` cookie (the console). */
export function sessionToken(req: FastifyRequest): string | undefined {
  const m = BEARER.exec(req.headers.authorization ?? '');
  return m ? m[1] : req.cookies?.[SESSION_COOKIE];
}

/**
 * Every route requires a signed-in user unless its config says `auth: 'public'` or `'device'` (device routes check
 * their own credentials). `config.roles` narrows further. Wrapped with fastify-plugin so the hook covers all routes.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, { services }: { services: Services }) => {
    if (!app.hasDecorator('parseCookie')) await app.register(cookie);
    app.decorateRequest('actor', null as unknown as Actor);

    app.addHook('onRequest', async (req) => {
      const { url, config } = req.routeOptions;
      // No url: fastify's 404 handler; unknown paths must stay 404 rather than turn into 401.
      if (url === undefined || config.auth === 'public' || config.auth === 'device') return;
      const actor = await services.accounts.actorFromToken(sessionToken(req), req.ip);
      if (!actor) throw unauthorized('sign in first: send Authorization: Bearer <token> or the loa_session cookie');
      // A browser attaches the cookie by itself, so only cookie sessions need proof of the sending page; a bearer
      // token or device credential is sent on purpose by its holder.
      if (!hasBearer(req) && !fromOwnOrigin(req)) {
        throw new AppError(403, 'cross-origin request refused: a signed-in console request must carry this server\'s Origin (or Referer)', 'headers/origin');
      }
      if (config.roles && !(config.roles as readonly string[]).includes(actor.role)) throw forbidden(`requires role ${config.roles.join(' or ')}`);
      req.actor = actor;
    });
  },
  { name: 'loa-auth' },
);
