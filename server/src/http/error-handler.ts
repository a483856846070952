import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../shared/errors.ts';

/**
 * What busboy throws for a body that is not well-formed multipart (no or oversized boundary, a part cut off). These
 * are plain Errors without a status, so they would otherwise be 500s although the client sent the fault.
 */
const MALFORMED_MULTIPART = /^(Multipart: Boundary not found|Boundary required|Unexpected end of (multipart data|form)|.* terminated early|Malformed part header|The needle )/;

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 502: 'Bad Gateway', 504: 'Gateway Timeout' };

/**
 * One error shape everywhere: {statusCode, error, message, field?}. Validation errors name the field
 * (e.g. body/name); 5xx details stay in the log.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      return reply.status(err.statusCode).send({ statusCode: err.statusCode, error: STATUS_TEXT[err.statusCode] ?? 'Error', message: err.message, field: err.field, details: err.details });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const missing = (v.params as { missingProperty?: string })?.missingProperty;
      const path = `${fe.validationContext ?? 'body'}${v.instancePath || ''}${missing ? '/' + missing : ''}`;
      return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `${path} ${v.message ?? 'is invalid'}`, field: path });
    }
    if (!fe.statusCode && MALFORMED_MULTIPART.test(fe.message ?? '') && /^multipart\//i.test(req.headers['content-type'] ?? '')) {
      return reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: `body/file: malformed multipart body (${fe.message})`, field: 'body/file' });
    }
    const status = fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.status(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error; see the server log for request ' + req.id });
    }
    return reply.status(status).send({ statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message: fe.message });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }));
}
