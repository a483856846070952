import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AreaRollupSchema, AreaSchema, CreateAreaSchema, UpdateAreaSchema } from '../../../schemas/api/areas.ts';
import { IdSchema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';

const params = Type.Object({ id: IdSchema });
const tags = ['areas'];

export const areasRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.get('/areas', { schema: { tags, response: { 200: Type.Array(AreaSchema) } } }, async (req) => s.areas.list(req.actor.scope));

  app.get('/areas/:id', { schema: { tags, params, response: { 200: AreaSchema } } }, async (req) => s.areas.get(req.params.id, req.actor.scope));

  app.get('/areas/:id/rollup', { schema: { tags, params, response: { 200: AreaRollupSchema } } }, async (req) => {
    s.areas.get(req.params.id, req.actor.scope);
    return s.rollup.of(req.params.id);
  });

  app.post('/areas', { config: { roles: ['admin'] }, schema: { tags, body: CreateAreaSchema, response: { 201: AreaSchema } } }, async (req, reply) => {
    const area = await s.areas.create(req.body);
    await s.audit.record(req.actor, 'area.create', { type: 'area', id: area.id }, req.body);
    return reply.status(201).send(area);
  });

  app.patch('/areas/:id', { config: { roles: ['admin'] }, schema: { tags, params, body: UpdateAreaSchema, response: { 200: AreaSchema } } }, async (req) => {
    const area = await s.areas.update(req.params.id, req.body);
    await s.audit.record(req.actor, 'area.update', { type: 'area', id: area.id }, req.body);
    // Moving an area changes the group topics of every cluster beneath it.
    s.bus.emit('registry.changed', { clusterIds: s.rollup.clustersUnder(area.id) });
    return area;
  });

  app.delete('/areas/:id', { config: { roles: ['admin'] }, schema: { tags, params, response: { 204: Type.Null() } } }, async (req, reply) => {
    await s.areas.delete(req.params.id);
    await s.audit.record(req.actor, 'area.delete', { type: 'area', id: req.params.id });
    return reply.status(204).send(null);
  });
};
