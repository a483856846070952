import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { TelemetryPointSchema, TelemetryQuerySchema } from '../../../schemas/api/clusters.ts';
import { IdSchema } from '../../../schemas/common.ts';
import { badRequest } from '../shared/errors.ts';
import type { Services } from '../services.ts';
import { liveStream } from './live-stream.ts';

const params = Type.Object({ id: IdSchema });
const tags = ['health'];

export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.get('/clusters/:id/telemetry', {
    schema: { tags, params, querystring: TelemetryQuerySchema, response: { 200: Type.Object({ resolution: Type.Integer(), points: Type.Array(TelemetryPointSchema) }) } },
  }, async (req) => {
    s.clusters.get(req.params.id, req.actor);
    const to = req.query.to ? Date.parse(req.query.to) : s.clock.now();
    const from = req.query.from ? Date.parse(req.query.from) : to - 86_400_000;
    if (from > to) throw badRequest('from must be before to', 'querystring/from');
    const resolution = req.query.resolution ?? 0;
    if (!resolution && to - from > 7 * 86_400_000) throw badRequest('raw points are limited to 7 days; pass a resolution', 'querystring/resolution');
    return { resolution, points: await s.telemetry.history(req.params.id, from, to, resolution) };
  });

  app.get('/clusters/:id/events', {
    schema: { tags, params, querystring: Type.Object({ since: Type.Optional(Type.String({ format: 'date-time' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })) }), response: { 200: Type.Array(Type.Record(Type.String(), Type.Unknown())) } },
  }, async (req) => {
    s.clusters.get(req.params.id, req.actor);
    return s.deviceEvents.list(req.params.id, req.query.since ? Date.parse(req.query.since) : 0, req.query.limit);
  });

  app.get('/stream', {
    schema: { tags, description: 'Server-Sent Events: `status` (online/offline), `health` (faults, battery), `event` (device events), `airing` (proof of play) for clusters in the caller\'s areas, `alarm` (a fault alarm raised, repeated, cleared or acknowledged), and `broadcast` (state changes; `cause` and `by` when a person submitted, approved or rejected it).' },
  }, (req, reply) => liveStream(s, req, reply));
};
