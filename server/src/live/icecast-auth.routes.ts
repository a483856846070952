import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../services.ts';
import { notFound } from '../shared/errors.ts';

/** The header Icecast 2 looks for in the answer to admit a listener (its `auth_header` option's default). */
export const ICECAST_AUTH_HEADER = 'icecast-auth-user';

/**
 * POST /api/device/icecast-auth: Icecast 2's listener authentication by URL (`<authentication type="url">` on the
 * mounts the server pushes to, option `listener_add`). When a cluster opens a stream mount, Icecast posts the form
 * fields action, mount, user, pass, ip, client, agent, server, port here, and admits the listener only if the answer
 * carries `icecast-auth-user: 1`.
 *
 * No session, and no Basic header: the caller is Icecast, not a device or a signed-in user, so the route is outside
 * the device routes' preHandler (registered on its own) and marked `auth: 'device'` so the console's session check
 * skips it. What it authenticates is the device's own credentials, as Icecast got them from the device's HTTP Basic
 * header (user = cluster id, pass = secret, the same pair the device presents to the server), and it admits a cluster
 * only to a stream it holds an item of (LiveService.mayListen), exactly as GET /api/device/live/:streamId does. It
 * tells the caller no more than that route does (yes or no), so it needs no secret of its own.
 */
export const icecastAuthRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services: s }) => {
  // Icecast posts application/x-www-form-urlencoded; only this plugin parses it.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post('/icecast-auth', {
    // No rate limit, like the device routes: every listener of the fleet comes through this one caller (Icecast's
    // address), all at once after an Icecast restart.
    config: { auth: 'device' },
    schema: {
      tags: ['device'],
      description:
        'Icecast 2 URL authentication of a listener (`listener_add`), posted by Icecast as a form (action, mount, user, pass, ip, ' +
        'client, agent, server, port): admits (header `icecast-auth-user: 1`) a cluster whose credentials (user = cluster id, ' +
        'pass = secret) are right and that holds an item of the stream on that mount. Wrong or missing credentials 401, anything ' +
        'else 403 (Icecast refuses the listener either way). Called by Icecast, not by devices.',
      security: [],
      consumes: ['application/x-www-form-urlencoded'],
    },
  }, async (req, reply) => {
    // Not validated by a body schema: whatever Icecast (or anyone) posts is answered, and only the header admits.
    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const field = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
    const [action, mount, user] = [field('action'), field('mount'), field('user')];
    // listener_remove (if configured) needs no decision.
    if (action === 'listener_remove') return reply.status(200).send('');
    const refuse = (status: 401 | 403, why: string) => {
      req.log.info({ mount, clusterId: user || null, action, why }, 'icecast listener refused');
      return reply.status(status).header('icecast-auth-message', why).send('');
    };
    if (!user) return refuse(401, 'device credentials required');
    // Without an Icecast to serve there is nothing to admit to, and no credential check is answered to anyone.
    if (!s.config.LOA_ICECAST_URL) throw notFound('Icecast distribution (LOA_ICECAST_URL)');
    if (!s.directory.authenticate(user, field('pass'))) return refuse(401, 'device credentials required');
    const streamId = action === 'listener_add' ? s.live.streamAtMount(mount) : null;
    // One answer for "not yours" and "not here", as GET /api/device/live/:streamId gives.
    if (!streamId || !(await s.live.mayListen(streamId, user))) return refuse(403, 'stream not found');
    return reply.status(200).header(ICECAST_AUTH_HEADER, '1').send('');
  });
};
