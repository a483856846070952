import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { TtsVoicesSchema } from '../../../schemas/api/content.ts';
import { TtsNormalisedSchema, TtsPreviewRequestSchema, TtsPreviewSchema } from '../../../schemas/api/tts.ts';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import type { Role } from '../shared/actor.ts';
import type { TtsService } from './tts.service.ts';

const tags = ['tts'];
const err = ErrorBodySchema;
const roles: Role[] = ['admin', 'operator', 'approver'];

/** Text-to-speech over HTTP. Registered with prefix /api; needs only the TTS service. */
export const ttsRoutes: FastifyPluginAsyncTypebox<{ services: { tts: TtsService } }> = async (app, { services: s }) => {
  app.post('/tts/preview', {
    config: { roles },
    schema: {
      tags,
      description:
        'Synthesises Vietnamese text into a content item (numbers, dates, times, units and abbreviations are read out; ' +
        'optional chime before/after), loudness-normalised like an upload. The same request returns the same item. ' +
        'Listen to it at GET /content/{id}/audio. `normalisedText` is what the synthesiser was given.',
      body: TtsPreviewRequestSchema,
      response: { 201: TtsPreviewSchema, 400: err, 403: err, 404: err, 422: err, 502: err, 504: err },
    },
  }, async (req, reply) => reply.status(201).send(await s.tts.synthesize(req.body, req.actor)));

  app.post('/tts/normalise', {
    config: { roles },
    schema: {
      tags,
      description:
        'Dry run of /tts/preview: the text as it would be spoken (the commune readings, then the reading rules), ' +
        'without synthesising. Fast enough to call as the operator types.',
      body: TtsPreviewRequestSchema,
      response: { 200: TtsNormalisedSchema, 400: err, 403: err, 404: err },
    },
  }, async (req) => {
    const { normalisedText, communeId } = await s.tts.normalise(req.body, req.actor);
    return { normalisedText, communeId };
  });

  app.get('/tts/voices', { schema: { tags, description: 'Engines and their voices; the first voice of an engine is its default.', response: { 200: TtsVoicesSchema } } }, async () =>
    s.tts.voices());
};
