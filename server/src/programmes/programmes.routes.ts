import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { RejectSchema } from '../../../schemas/api/broadcasts.ts';
import { PreviewSchema, ProgrammeInputSchema, ProgrammeQuerySchema, ProgrammeSchema } from '../../../schemas/api/programmes.ts';
import type { Services } from '../services.ts';

const params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['programmes'];
const editors = ['admin', 'operator', 'approver'] as ('admin' | 'operator' | 'approver')[];

export const programmesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.get('/programmes', { schema: { tags, querystring: ProgrammeQuerySchema, response: { 200: Type.Array(ProgrammeSchema) } } }, async (req) => s.programmes.list(req.query, req.actor));

  app.get('/programmes/:id', { schema: { tags, params, response: { 200: ProgrammeSchema } } }, async (req) => s.programmes.get(req.params.id, req.actor));

  // What a save would do — duration, reach, next occurrences, problems — without saving: the editor asks as the officer types.
  app.post('/programmes/preview', {
    config: { roles: editors },
    schema: { tags, body: ProgrammeInputSchema, querystring: Type.Object({ programmeId: Type.Optional(Type.String({ maxLength: 64 })) }), response: { 200: PreviewSchema } },
  }, async (req) => s.programmes.preview(req.body, req.actor, req.query.programmeId ?? null));

  app.post('/programmes', { config: { roles: editors }, schema: { tags, body: ProgrammeInputSchema, response: { 201: ProgrammeSchema } } }, async (req, reply) =>
    reply.status(201).send(await s.programmes.create(req.body, req.actor)),
  );

  app.put('/programmes/:id', { config: { roles: editors }, schema: { tags, params, body: ProgrammeInputSchema, response: { 200: ProgrammeSchema } } }, async (req) =>
    s.programmes.update(req.params.id, req.body, req.actor),
  );

  app.post('/programmes/:id/approve', { config: { roles: ['admin', 'approver'] }, schema: { tags, params, response: { 200: ProgrammeSchema } } }, async (req) =>
    s.programmes.approve(req.params.id, req.actor),
  );

  app.post('/programmes/:id/reject', { config: { roles: ['admin', 'approver'] }, schema: { tags, params, body: RejectSchema, response: { 200: ProgrammeSchema } } }, async (req) =>
    s.programmes.reject(req.params.id, req.body.reason, req.actor),
  );

  app.delete('/programmes/:id', { config: { roles: editors }, schema: { tags, params } }, async (req, reply) => {
    await s.programmes.delete(req.params.id, req.actor);
    return reply.status(204).send();
  });
};
