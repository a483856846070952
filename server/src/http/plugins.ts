import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import { createWebSocketStream } from 'ws';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';
import { guardedStream } from '../mqtt/packet-guard.ts';
import { securityHeaders } from './security.ts';

/** Cross-cutting HTTP plumbing: security headers, OpenAPI, rate limiting, latency metrics and MQTT over WebSocket at /mqtt. */
export const httpPlugins = fp(async (app: FastifyInstance, { services }: { services: Services }) => {
  // First, so its hook runs for every route registered after it, the docs and the console included.
  await securityHeaders(app, () => services.config.LOA_TILE_URL);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Loa Xã API', version: '1.0.0', description: 'Commune smart loudspeaker radio: fleet, health, broadcasts.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic', description: 'devices: cluster id and secret' }, cookie: { type: 'apiKey', in: 'cookie', name: 'loa_session' } } },
      security: [{ bearer: [] }, { cookie: [] }],
    },
  });
  app.addSchema(ErrorBodySchema);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config as object), auth: 'public' };
  });
  // The browsable docs are static assets of the API description, which is public anyway (see /openapi.json).
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  await app.register(rateLimit, { global: false });
  await app.register(websocket, { options: { maxPayload: services.config.LOA_MQTT_MAX_PACKET_BYTES } });


  // Ajv coerces "1e309" to Infinity and lets it through integer, minimum and maximum checks alike; no handler
  // can use an infinite limit or offset, so such a value is refused here, naming the parameter.
  app.addHook('preHandler', async (req, reply) => {
    const q = req.query as Record<string, unknown> | undefined;
    for (const [key, v] of Object.entries(q ?? {})) {
      if (typeof v === 'number' && !Number.isFinite(v)) {
        return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `querystring/${key} must be a finite number`, field: `querystring/${key}` });
      }
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    services.metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Devices authenticate inside MQTT (CONNECT username/password), exactly as over TCP.
  app.get('/mqtt', { websocket: true, config: { auth: 'public' }, schema: { hide: true } }, (socket) => {
    if (services.config.LOA_MQTT_URL) return socket.close(1008, 'connect to the MQTT broker'); // an external broker serves devices
    // One MQTT packet may span several WebSocket messages, so ws's maxPayload alone does not bound it.
    const stream = guardedStream(createWebSocketStream(socket as any), services.config.LOA_MQTT_MAX_PACKET_BYTES, () => services.metrics.mqttRejected.inc({ reason: 'packet_too_large' }));
    app.loa.broker.handle(stream as any);
  });
});
