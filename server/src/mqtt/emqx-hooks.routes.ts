import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EmqxAuthnRequestSchema, EmqxAuthnResponseSchema, EmqxAuthzRequestSchema, EmqxAuthzResponseSchema } from '../../../schemas/api/emqx.ts';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';
import { unauthorized } from '../shared/errors.ts';
import { EmqxHooks, sameSecret } from './emqx-hooks.ts';

/** The header EMQX's authenticator and authoriser are configured to send (docs/emqx.md). */
export const EMQX_SECRET_HEADER = 'x-loa-hook-secret';

/**
 * POST /api/emqx/authn and /api/emqx/authz: EMQX 5's HTTP authenticator and HTTP authoriser (LOA_MQTT_ACCOUNTS=hooks;
 * docs/emqx.md). The caller is EMQX, not a user nor a device, so there is no session: it proves itself with the
 * shared secret LOA_EMQX_HOOK_SECRET in a header, checked before the body is even parsed. Without the secret
 * configured no request can prove itself: 401, like a wrong secret (a caller without it learns nothing of whether
 * the hooks are on, as every other route answers the unauthenticated). A refusal is still a 200 with
 * result "deny": EMQX reads any other status as "ignore".
 */
export const emqxHooksRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  const secret = s.config.LOA_EMQX_HOOK_SECRET;
  const hooks = new EmqxHooks({
    directory: s.directory,
    serverUsername: s.config.LOA_MQTT_USERNAME,
    serverPassword: s.config.LOA_MQTT_PASSWORD,
    onReject: (clusterId, reason, detail) => {
      s.metrics.mqttRejected.inc({ reason });
      app.log.debug({ clusterId, reason, detail }, 'mqtt refused (emqx hook)');
    },
  });

  app.addHook('onRequest', async (req) => {
    const given = req.headers[EMQX_SECRET_HEADER];
    if (!secret || typeof given !== 'string' || !sameSecret(given, secret)) {
      s.metrics.mqttRejected.inc({ reason: 'emqx_hook_secret' });
      throw unauthorized(`${EMQX_SECRET_HEADER} missing or wrong`);
    }
  });

  // No rate limit, like the device routes: every CONNECT, PUBLISH and SUBSCRIBE of the fleet comes from EMQX's nodes.
  // 'public' for the session check only: the secret above is these routes' authentication.
  const config = { auth: 'public' as const };
  const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema };

  app.post('/authn', {
    config,
    schema: {
      tags: ['emqx'],
      description:
        "EMQX's HTTP authenticator: a device logs in with username = client id = cluster id and its secret as password; the " +
        "server's own account (LOA_MQTT_USERNAME) with its password. Never a superuser. Requires the x-loa-hook-secret header.",
      security: [],
      body: EmqxAuthnRequestSchema,
      response: { 200: EmqxAuthnResponseSchema, ...errors },
    },
  }, async (req) => hooks.authenticate(req.body));

  app.post('/authz', {
    config,
    schema: {
      tags: ['emqx'],
      description:
        "EMQX's HTTP authoriser: the embedded broker's topic ACL (own up channels to publish, QoS ≤ 1, retain only on status; own " +
        "down channels and the groups of its areas to subscribe), and for the server's account what the link needs. Requires the " +
        'x-loa-hook-secret header.',
      security: [],
      body: EmqxAuthzRequestSchema,
      response: { 200: EmqxAuthzResponseSchema, ...errors },
    },
  }, async (req) => hooks.authorize(req.body));
};
