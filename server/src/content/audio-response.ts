import { createReadStream } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Sends a stored, immutable file with single-range support (RFC 9110 §14), which browsers' <audio> elements use to
 * seek. Multi-range requests get the whole file (allowed by the RFC). The ETag is the content hash, so If-Range
 * matches exactly when the bytes are the same.
 */
export function sendFile(req: FastifyRequest, reply: FastifyReply, file: { path: string; size: number; sha256: string; type: string }) {
  const etag = `"${file.sha256}"`;
  reply.header('accept-ranges', 'bytes').header('etag', etag).header('cache-control', 'private, max-age=3600');
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  const m = range && (!ifRange || ifRange === etag) ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) {
    return reply.type(file.type).header('content-length', file.size).send(createReadStream(file.path));
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, file.size - Number(m[2])); // suffix range: the last N bytes
    end = file.size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? file.size - 1 : Math.min(Number(m[2]), file.size - 1);
  }
  if (start >= file.size || start > end) {
    return reply.status(416).type('application/json').header('content-range', `bytes */${file.size}`)
      .send({ statusCode: 416, error: 'Range Not Satisfiable', message: `the file has ${file.size} bytes`, field: 'headers/range' });
  }
  return reply.status(206).type(file.type).header('content-range', `bytes ${start}-${end}/${file.size}`).header('content-length', end - start + 1)
    .send(createReadStream(file.path, { start, end }));
}
