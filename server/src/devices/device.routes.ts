import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import { statSync } from 'node:fs';
import { ErrorBodySchema, Sha256Schema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';
import { deviceAuth } from './device-auth.ts';
import { registerLiveDeviceRoute } from '../live/live-device.routes.ts';

/** Routes a cluster calls over HTTP with its own credentials (config.auth = 'device'). */
export const deviceRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  const store = s.contentStore;
  await app.register(fastifyStatic, { root: store.dir, serve: false });
  app.addHook('preHandler', deviceAuth(s.directory, () => s.metrics.mqttRejected.inc({ reason: 'http_device_auth' })));

  registerLiveDeviceRoute(app, { stream: (id) => s.live.stream(id), mayListen: (streamId, clusterId) => s.live.mayListen(streamId, clusterId) });

  app.get('/content/:sha256', {
    config: { auth: 'device' },
    schema: {
      tags: ['device'],
      description:
        'Audio content by sha256, with Range support so an interrupted 4G download resumes where it stopped. Only content of an ' +
        'item in the calling cluster\'s own manifest (not removed, not expired); anything else is 404, whether or not the server holds it.',
      params: Type.Object({ sha256: Sha256Schema }),
      security: [{ basic: [] }],
      response: { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 416: ErrorBodySchema },
    },
  }, async (req, reply) => {
    // One answer for "not yours" and "not here": a cluster learns nothing about content it was not sent.
    if (!(await s.manifests.holdsContent(req.params.sha256, req.deviceId!)) || !store.has(req.params.sha256)) {
      return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: 'content not found', field: 'params/sha256' });
    }
    // Content never changes under its hash, so an If-Range naming it always matches; @fastify/send only compares
    // If-Range with an ETag it computed itself.
    if (req.headers['if-range'] === `"${req.params.sha256}"`) delete req.raw.headers['if-range'];
    // RFC 9110 §15.5.17: a 416 tells the size, so a device holding a complete file learns it is complete.
    const size = statSync(store.pathOf(req.params.sha256)).size;
    const start = /^bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1];
    if (start !== undefined && Number(start) >= size) {
      return reply.status(416).header('content-range', `bytes */${size}`).send({ statusCode: 416, error: 'Range Not Satisfiable', message: `content has ${size} bytes`, field: 'headers/range' });
    }
    return reply
      .header('cache-control', 'private, max-age=31536000, immutable')
      .header('etag', `"${req.params.sha256}"`)
      .type('application/octet-stream')
      .sendFile(req.params.sha256, { acceptRanges: true, etag: false, lastModified: false, cacheControl: false });
  });
};
