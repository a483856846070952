import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AiringSchema, BroadcastQuerySchema, BroadcastSchema, CreateBroadcastSchema, RejectSchema } from '../../../schemas/api/broadcasts.ts';
import type { Services } from '../services.ts';

const params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['broadcasts'];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
type AiringRow = Awaited<ReturnType<Services['airings']['list']>>[number];
const airingView = (a: AiringRow) => ({ ...a, scheduledAt: iso(a.scheduledAt), receivedAt: iso(a.receivedAt), downloadedAt: iso(a.downloadedAt), startedAt: iso(a.startedAt), finishedAt: iso(a.finishedAt) });

export const broadcastsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.post('/broadcasts', {
    config: { roles: ['admin', 'operator', 'approver'] },
    schema: { tags, body: CreateBroadcastSchema, response: { 201: BroadcastSchema } },
  }, async (req, reply) => reply.status(201).send(await s.broadcasts.create(req.body, req.actor)));

  app.get('/broadcasts', { schema: { tags, querystring: BroadcastQuerySchema, response: { 200: Type.Array(BroadcastSchema) } } }, async (req) => s.broadcasts.list(req.query, req.actor));

  app.get('/broadcasts/:id', { schema: { tags, params, response: { 200: BroadcastSchema } } }, async (req) => s.broadcasts.get(req.params.id, req.actor));

  app.get('/broadcasts/:id/airings', { schema: { tags, params, response: { 200: Type.Array(AiringSchema) } } }, async (req) => {
    await s.broadcasts.get(req.params.id, req.actor); // 404 unless the actor may see it
    return (await s.airings.list(req.params.id)).map((a) => ({ ...airingView(a), clusterName: s.clusters.nameOf(a.clusterId) }));
  });

  app.post('/broadcasts/:id/approve', { config: { roles: ['admin', 'approver'] }, schema: { tags, params, response: { 200: BroadcastSchema } } }, async (req) =>
    s.broadcasts.approve(req.params.id, req.actor),
  );

  app.post('/broadcasts/:id/reject', { config: { roles: ['admin', 'approver'] }, schema: { tags, params, body: RejectSchema, response: { 200: BroadcastSchema } } }, async (req) =>
    s.broadcasts.reject(req.params.id, req.body.reason, req.actor),
  );

  app.post('/broadcasts/:id/cancel', { config: { roles: ['admin', 'operator', 'approver'] }, schema: { tags, params, response: { 200: BroadcastSchema } } }, async (req) =>
    s.broadcasts.cancel(req.params.id, req.actor),
  );

  app.get('/clusters/:id/airings', { schema: { tags, params, response: { 200: Type.Array(AiringSchema) } } }, async (req) => {
    s.clusters.get(req.params.id, req.actor);
    return (await s.airings.forCluster(req.params.id)).map((a) => ({ ...airingView(a), clusterName: s.clusters.nameOf(a.clusterId) }));
  });
};
