import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ContentSchema, TtsRequestSchema, TtsVoicesSchema } from '../../../schemas/api/content.ts';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import type { TtsService } from './tts.service.ts';

const tags = ['tts'];
const err = ErrorBodySchema;

/** Text-to-speech over HTTP. Registered with prefix /api; needs only the TTS service. */
export const ttsRoutes: FastifyPluginAsyncTypebox<{ services: { tts: TtsService } }> = async (app, { services: s }) => {
  app.post('/tts/preview', {
    config: { roles: ['admin', 'operator', 'approver'] },
    schema: {
      tags,
      description:
        'Synthesises Vietnamese text into a content item (numbers, dates, times, units and abbreviations are read out; ' +
        'optional chime before/after), loudness-normalised like an upload. The same request returns the same item. ' +
        'Listen to it at GET /content/{id}/audio.',
      body: TtsRequestSchema,
      response: { 201: ContentSchema, 400: err, 403: err, 422: err, 502: err, 504: err },
    },
  }, async (req, reply) => reply.status(201).send(await s.tts.synthesize(req.body, req.actor)));

  app.get('/tts/voices', { schema: { tags, description: 'Engines and their voices; the first voice of an engine is its default.', response: { 200: TtsVoicesSchema } } }, async () =>
    s.tts.voices());
};
