import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreatePronunciationSchema,
  PronunciationListQuerySchema,
  PronunciationParamsSchema,
  PronunciationSchema,
  UpdatePronunciationSchema,
} from '../../../schemas/api/pronunciations.ts';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import type { Role } from '../shared/actor.ts';
import type { PronunciationsService } from './pronunciations.service.ts';

const tags = ['tts'];
const err = ErrorBodySchema;
const editors: Role[] = ['admin', 'operator'];

/** A commune's readings (cách đọc) over HTTP; registered with prefix /api. */
export const pronunciationsRoutes: FastifyPluginAsyncTypebox<{ services: { pronunciations: PronunciationsService } }> = async (app, { services: s }) => {
  app.get('/tts/pronunciations', {
    config: { roles: ['admin', 'operator', 'approver'] },
    schema: { tags, description: "A commune's readings, applied before the built-in reading rules.", querystring: PronunciationListQuerySchema, response: { 200: Type.Array(PronunciationSchema), 403: err, 404: err } },
  }, async (req) => s.pronunciations.list(req.query.communeId, req.actor));

  app.post('/tts/pronunciations', {
    config: { roles: editors },
    schema: { tags, description: 'Adds a reading: `written` (whole word, as written) is spoken as `spoken`.', body: CreatePronunciationSchema, response: { 201: PronunciationSchema, 400: err, 403: err, 404: err, 409: err } },
  }, async (req, reply) => reply.status(201).send(await s.pronunciations.create(req.body, req.actor)));

  app.patch('/tts/pronunciations/:id', {
    config: { roles: editors },
    schema: { tags, params: PronunciationParamsSchema, body: UpdatePronunciationSchema, response: { 200: PronunciationSchema, 400: err, 403: err, 404: err, 409: err } },
  }, async (req) => s.pronunciations.update(req.params.id, req.body, req.actor));

  app.delete('/tts/pronunciations/:id', {
    config: { roles: editors },
    schema: { tags, params: PronunciationParamsSchema, response: { 204: Type.Null(), 403: err, 404: err } },
  }, async (req, reply) => {
    await s.pronunciations.delete(req.params.id, req.actor);
    return reply.status(204).send(null);
  });
};
