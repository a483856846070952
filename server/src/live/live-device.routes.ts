import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import { STREAM_EPOCH_HEADER } from '../../../schemas/device-protocol/stream.ts';
import type { LiveStream } from './live-stream.ts';

/**
 * A listener further behind than this (its response's queue plus its socket's) gets no more pages until it drains:
 * 64 KB is ~14 s of 32 kbit/s Opus, far beyond any device's jitter buffer, so buffering more would only grow memory.
 * A dropped page is a hole the device stamps past (granules carry the timeline), not a shift.
 */
export const MAX_BACKLOG_BYTES = 64 * 1024;

export interface LiveDeviceDeps {
  stream(id: string): LiveStream | undefined;
  mayListen(streamId: string, clusterId: string): Promise<boolean>;
}

/**
 * GET /api/device/live/:streamId: a live stream as chunked Ogg/Opus joined at the live position (the header pages,
 * then every page as the encoder makes it) until the stream ends. Registered inside the device routes, whose
 * preHandler authenticates the cluster and sets req.deviceId.
 */
export function registerLiveDeviceRoute(app: FastifyInstance, deps: LiveDeviceDeps): void {
  app.get('/live/:streamId', {
    config: { auth: 'device' },
    schema: {
      tags: ['device'],
      description:
        'A live stream (protocol v1.2) as chunked Ogg/Opus from the live position; header `loa-stream-epoch` is the server time of ' +
        'sample 0. Only for a cluster an airing of this stream was sent to; anything else is 404, whether or not the stream exists.',
      params: Type.Object({ streamId: Type.String({ minLength: 1, maxLength: 100 }) }),
      security: [{ basic: [] }],
      response: { 401: ErrorBodySchema, 404: ErrorBodySchema },
    },
  }, async (req, reply) => {
    const { streamId } = req.params as { streamId: string };
    const allowed = !!req.deviceId && (await deps.mayListen(streamId, req.deviceId));
    // Taken after that wait, so a stream that ended meanwhile is not joined.
    const stream = deps.stream(streamId);
    // One answer for "not yours" and "not here": a cluster learns nothing about streams it was not sent.
    if (!stream || stream.ended || !allowed) {
      return reply.status(404).send({ statusCode: 404, error: 'Not Found', message: 'stream not found', field: 'params/streamId' });
    }
    const body = new Readable({ read() {} });
    for (const h of stream.headers()) body.push(h);
    let dropped = 0;
    let over = false;
    const off = stream.subscribe((page) => {
      if (body.readableLength + reply.raw.writableLength > MAX_BACKLOG_BYTES) {
        dropped++;
        stream.droppedPages++;
      } else body.push(page.bytes);
      if (page.eos) end();
    });
    const end = () => {
      if (over) return;
      over = true;
      off();
      stream.off('ended', end);
      body.push(null);
    };
    stream.once('ended', end);
    reply.raw.once('close', () => {
      end();
      if (dropped) req.log.info({ streamId, clusterId: req.deviceId, dropped }, 'slow live listener: pages dropped');
    });
    return reply
      .header('content-type', 'audio/ogg')
      .header('cache-control', 'no-store')
      .header(STREAM_EPOCH_HEADER, String(stream.epochMs))
      .send(body);
  });
}
