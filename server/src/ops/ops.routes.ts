import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Services } from '../services.ts';

/** Operations endpoints. */
export async function opsRoutes(app: FastifyInstance, { services: s }: { services: Services }) {
  // Public: a load balancer or systemd watchdog must reach it without credentials; it reveals no data.
  app.get('/healthz', {
    config: { auth: 'public' },
    schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.String(), db: Type.String(), broker: Type.String(), clustersOnline: Type.Integer() }), 503: Type.Object({ status: Type.String(), db: Type.String(), broker: Type.String() }) } },
  }, async (_req, reply) => {
    let db = 'ok';
    try {
      await s.db.ping();
    } catch {
      db = 'error';
    }
    const broker = app.loa.link.up ? 'ok' : 'closed';
    const ok = db === 'ok' && broker === 'ok';
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', db, broker, clustersOnline: s.health.onlineCount() });
  });

  // Public unless LOA_METRICS_TOKEN is set: Prometheus scrapers usually sit on the same private network.
  app.get('/metrics', { config: { auth: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const token = s.config.LOA_METRICS_TOKEN;
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      return reply.status(401).send({ statusCode: 401, error: 'Unauthorized', message: 'metrics token required' });
    }
    s.metrics.clustersOnline.set(s.health.onlineCount());
    s.metrics.clustersTotal.set(s.directory.size);
    reply.header('content-type', s.metrics.registry.contentType);
    return s.metrics.registry.metrics();
  });

  // Public: the API description holds no data, and clients generate code from it.
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
