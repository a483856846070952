import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import { rm } from 'node:fs/promises';
import { ContentInUseSchema, ContentListItemSchema, ContentListQuerySchema, ContentParamsSchema, ContentSchema, UploadQuerySchema } from '../../../schemas/api/content.ts';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import { sendFile } from './audio-response.ts';
import type { ContentService } from './content.service.ts';
import { DEVICE_FORMAT } from './transcode.ts';
import { receiveUpload } from './upload.ts';

const tags = ['content'];
const err = ErrorBodySchema;
const params = ContentParamsSchema;
const Audio = Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: `${DEVICE_FORMAT.mime} (Opus, mono, 48 kHz)` });

/** The content library over HTTP. Registered with prefix /api; needs only the content service. */
export const contentRoutes: FastifyPluginAsyncTypebox<{ services: { content: ContentService } }> = async (app, { services: s }) => {
  const { maxUploadBytes } = s.content.limits;
  // Encapsulated here: only this plugin's routes accept multipart bodies, and only this big.
  await app.register(multipart, { limits: { fileSize: maxUploadBytes, files: 1, fields: 4, fieldSize: 1000, parts: 6 } });

  app.post('/content', {
    config: { roles: ['admin', 'operator', 'approver'] },
    schema: {
      tags,
      description:
        'Uploads a recording (multipart/form-data: `file`, optional `title`). It is checked, transcoded to Opus/Ogg mono 48 kHz ' +
        '32 kb/s and loudness-normalised to −16 LUFS. By default the answer waits for that (201); with wait=false it is 202 at once. ' +
        'A file refused while transcoding (truncated, silent, undecodable) is 422 naming the cause; such an item is not listed, ' +
        'keeps no file, and can be read by id for an hour (so a 202 can be polled to its reason) before it is removed.',
      consumes: ['multipart/form-data'],
      querystring: UploadQuerySchema,
      response: { 201: ContentSchema, 202: ContentSchema, 400: err, 403: err, 413: err, 415: err, 422: err },
    },
  }, async (req, reply) => {
    const upload = await receiveUpload(req, s.content.tempPath(), maxUploadBytes);
    try {
      const { record, done } = await s.content.submit(upload.path, { source: 'upload', originalName: upload.filename, title: upload.title ?? upload.filename }, req.actor);
      if (req.query.wait === false) return reply.status(202).send(record);
      return reply.status(201).send(await done);
    } finally {
      // submit() has copied the original into the store by now (or refused it): the upload itself is done with.
      await rm(upload.path, { force: true });
    }
  });

  // The library is for those who compose bulletins: it names the bulletins that hold each item (usedBy).
  app.get('/content', { config: { roles: ['admin', 'operator', 'approver'] }, schema: { tags, querystring: ContentListQuerySchema, response: { 200: Type.Array(ContentListItemSchema) } } }, async (req) =>
    s.content.list(req.query));

  app.get('/content/:id', { schema: { tags, params, response: { 200: ContentSchema, 404: err } } }, async (req) => s.content.get(req.params.id));

  app.delete('/content/:id', {
    config: { roles: ['admin', 'operator', 'approver'] },
    schema: {
      tags,
      params,
      description:
        'Deletes an item that is ready or failed. Refused (409, naming them) while a broadcast awaiting approval, scheduled or on air uses it. ' +
        'Its stored file goes as soon as no other item has the same audio and no cluster\'s manifest lists it; a synthesised bulletin is synthesised again next time.',
      response: { 204: Type.Null(), 403: err, 404: err, 409: Type.Union([ContentInUseSchema, err]) },
    },
  }, async (req, reply) => {
    await s.content.remove(req.params.id, req.actor);
    return reply.status(204).send(null);
  });

  app.get('/content/:id/audio', {
    schema: {
      tags,
      params,
      description: 'The transcoded file as devices receive it, for preview in the console; supports Range.',
      produces: [DEVICE_FORMAT.mime],
      response: { 200: Audio, 206: Audio, 404: err, 409: err, 416: err },
    },
  }, async (req, reply) => sendFile(req, reply, { ...(await s.content.audioFile(req.params.id)), type: DEVICE_FORMAT.mime }));
};
