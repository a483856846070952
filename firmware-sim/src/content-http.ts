/**
 * One HTTP attempt at a content file (docs/device-protocol.md §9): GET `{http}/api/device/content/{sha256}` with the
 * device's own Basic credentials, resuming with `Range` from what the partial file holds. The answer decides what
 * becomes of the partial file: 200 starts it again from byte 0 (a range we asked for was ignored), 206 must continue
 * it exactly, 416 says it is already complete (or corrupt: verification tells). Retries, back-off and verification
 * belong to the caller (content-fetch.ts); this file only speaks HTTP.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SimCounters } from './cluster-types.ts';
import type { ContentStoreOptions, Job, PartialFile } from './content-types.ts';

/** What an attempt needs from the fetcher that owns its job; built per attempt. */
export interface AttemptOwner {
  /** The job is still the fetcher's job for its file (not dropped). */
  owns(): boolean;
  /** The partial file to resume, if any. */
  part: PartialFile | undefined;
  /** A 200 answer: the partial file starts again, empty. */
  restart(): PartialFile;
  /** A 206 that does not continue the partial file: throw the partial file away. */
  discard(): void;
  /** Every byte is in the partial file: verify it, then settle `done`. */
  complete(done: (ok: boolean) => void): void;
  /** The attempt failed; what arrived stays in the partial file. */
  failed(detail: string): void;
  /** The server refused the content id as malformed (400): retrying cannot help. */
  refused(): void;
}

/** One attempt under way: its owner, plus `mine` (not disowned since) and `done` (settles a shared download). */
interface Attempt extends AttemptOwner {
  job: Job;
  mine(): boolean;
  done(ok: boolean): void;
}

/** Download `j` from the server at `base`. With sharedDownloads, other clusters may wait for the outcome. */
export function download(o: ContentStoreOptions, counters: SimCounters, j: Job, base: string, owner: AttemptOwner): void {
  let settle: ((ok: boolean) => void) | null = null;
  if (o.sharedDownloads) {
    const p = new Promise<boolean>((r) => (settle = r));
    o.cache.inflight.set(j.sha, p);
    void p.then(() => o.cache.inflight.get(j.sha) === p && o.cache.inflight.delete(j.sha));
  }
  const done = (ok: boolean) => {
    const s = settle;
    settle = null;
    s?.(ok);
  };
  const gen = ++j.gen;
  const url = new URL(`api/device/content/${j.sha}`, base.endsWith('/') ? base : base + '/');
  const mine = () => gen === j.gen && owner.owns();
  request(o, counters, url, { ...owner, job: j, mine, done });
}

function request(o: ContentStoreOptions, counters: SimCounters, url: URL, a: Attempt): void {
  const { job: j, part, done, mine } = a;
  const from = part?.bytes ?? 0;
  const headers: Record<string, string> = {
    authorization: 'Basic ' + Buffer.from(`${o.clusterId}:${o.secret}`).toString('base64'),
    accept: 'application/octet-stream',
  };
  if (from > 0) headers.range = `bytes=${from}-`;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  counters.downloads++;
  let req: ClientRequest;
  try {
    req = send(url, {
      method: 'GET',
      headers,
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
    });
  } catch (err) {
    done(false);
    return a.failed((err as Error).message);
  }
  j.req = req;
  req.setTimeout(o.timeoutMs, () => req.destroy(new Error('timeout')));
  let responded = false;
  req.on('error', (err) => {
    if (responded) return; // the response handlers deal with a body that broke off
    done(false);
    if (!mine()) return;
    j.req = null;
    a.failed(err.message);
  });
  req.on('response', (res: IncomingMessage) => {
    responded = true;
    if (!mine()) return void res.resume();
    const status = res.statusCode ?? 0;
    let into: PartialFile | null = null;
    if (status === 200) {
      // The whole file: a range we asked for was ignored, so whatever we held is discarded.
      into = a.restart();
    } else if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== from || !part) {
        a.discard();
        res.resume();
        j.req = null;
        done(false);
        return a.failed(`unexpected Content-Range ${res.headers['content-range'] ?? '(none)'}`);
      }
      into = part;
    }
    if (into) readBody(res, into, counters, a);
    else noBody(res, status, a);
  });
  req.end();
}

/** An answer without the file: 416 over a partial file means we hold it all; anything else failed. */
function noBody(res: IncomingMessage, status: number, a: Attempt): void {
  const { job: j, part, done, mine } = a;
  res.resume();
  res.on('end', () => {
    if (!mine()) return done(false);
    j.req = null;
    if (status === 416 && part) {
      // The range starts at or beyond the end: what we hold is complete (or corrupt) — verify it.
      return a.complete(done);
    }
    done(false);
    if (status === 401) j.slow = true;
    if (status === 400) return a.refused();
    a.failed(`http ${status}`);
  });
}

/** The body goes into the partial file as it arrives, so a connection that dies mid-body loses nothing. */
function readBody(res: IncomingMessage, target: PartialFile, counters: SimCounters, a: Attempt): void {
  const { job: j, done, mine } = a;
  let over = false;
  res.on('data', (chunk: Buffer) => {
    if (!mine()) return;
    target.chunks.push(chunk);
    target.bytes += chunk.length;
    counters.downloadBytes += chunk.length;
    // More than the item says: not the file we want. Verification fails and the file is discarded.
    if (target.bytes > j.size) res.destroy();
  });
  res.on('end', () => {
    if (over) return;
    over = true;
    if (!mine()) return done(false);
    j.req = null;
    if (target.bytes >= j.size) return a.complete(done);
    done(false);
    // Truncated without an error: keep what arrived and resume from there.
    a.failed(`short body (${target.bytes}/${j.size} bytes)`);
  });
  // The connection died mid-body (reset, timeout, link lost): the partial file keeps what arrived.
  const broken = (why: string) => {
    if (over) return;
    over = true;
    if (!mine()) return done(false);
    j.req = null;
    if (target.bytes > j.size) return a.complete(done);
    done(false);
    a.failed(why);
  };
  res.on('error', (err) => broken(err.message));
  res.on('close', () => broken('connection closed mid-body'));
}
