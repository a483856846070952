import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import type {} from '@fastify/multipart';
import { AppError, badRequest } from '../shared/errors.ts';

export interface ReceivedUpload {
  path: string;
  filename: string;
  title?: string;
}

const MB = 1024 * 1024;

/**
 * Streams the multipart field `file` to `dest` (never holding it in memory) and collects the `title` field, whichever
 * order they arrive in. Size limits come from the multipart plugin's `limits.fileSize`; anything over it is 413.
 * On any failure `dest` is removed before the error propagates.
 */
export async function receiveUpload(req: FastifyRequest, dest: string, maxBytes: number): Promise<ReceivedUpload> {
  if (!req.isMultipart()) throw new AppError(415, 'send the audio as multipart/form-data in a field named "file"', 'body/file');
  let filename: string | undefined;
  let title: string | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || filename !== undefined) throw badRequest(`unexpected file field "${part.fieldname}": send one file, in "file"`, 'body/file');
        // A part cut off by the end of the body ("Part terminated early") arrives already destroyed, without an error
        // on the stream; piping it would wait for ever.
        if (part.file.destroyed) throw badRequest('the multipart body ends inside the file part: the upload was cut off', 'body/file');
        await pipeline(part.file, createWriteStream(dest));
        // Browsers send a bare name, other clients sometimes a path; keep the name, shortened for the list.
        filename = (part.filename || 'upload').split(/[\\/]/).pop()!.slice(0, 200) || 'upload';
      } else if (part.fieldname === 'title') {
        title = String(part.value).trim() || undefined;
        if (title && title.length > 200) throw badRequest('title is longer than 200 characters', 'body/title');
      }
    }
  } catch (err) {
    await rm(dest, { force: true });
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new AppError(413, `the file is larger than the ${+(maxBytes / MB).toFixed(1)} MB limit`, 'body/file');
    if (code === 'FST_FILES_LIMIT') throw badRequest('send one file, in the field "file"', 'body/file');
    if (code?.startsWith('FST_')) throw badRequest((err as Error).message, 'body');
    throw err;
  }
  if (filename === undefined) throw badRequest('no file: send the audio in a multipart field named "file"', 'body/file');
  return { path: dest, filename, title };
}
