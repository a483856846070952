import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import type { Content, ContentInUse, ContentListItem, ContentListQuery, ContentSource, Playable } from '../../../schemas/api/content.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, conflict, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { ContentRepo, ContentRow } from './content.repo.ts';
import type { ContentStore } from './content-store.ts';
import { JobQueue } from './job-queue.ts';
import { probe, tooLong } from './probe.ts';
import { transcode } from './transcode.ts';

export type ContentRecord = Content;

export interface ContentLimits {
  /** longest audio accepted, seconds (LOA_CONTENT_MAX_DURATION_S) */
  maxDurationS: number;
  /** ffmpeg processes at once (LOA_TRANSCODE_CONCURRENCY) */
  concurrency: number;
  /** largest upload, bytes (LOA_UPLOAD_MAX_BYTES); enforced by the HTTP layer while streaming */
  maxUploadBytes: number;
}
export const DEFAULT_LIMITS: ContentLimits = { maxDurationS: 30 * 60, concurrency: 2, maxUploadBytes: 50 * 1024 * 1024 };

/** How long a failed item can still be read by id (a client polling its 202 learns why) before prune() drops it. */
export const FAILED_KEPT_MS = 3_600_000;

/** A broadcast not yet over that airs an item: while there is one, the item cannot be deleted. */
export type ContentUse = ContentInUse['details'][number];

type Awaitable<T> = T | Promise<T>;

/**
 * What outside the library holds on to its items; the composition root wires it to broadcasts, manifests and TTS.
 * Each answer may come from the database (a promise) or from memory.
 */
export interface ContentReferences {
  broadcastsUsing(contentId: string): Awaitable<ContentUse[]>;
  /** whether a cluster's manifest still has an item with this file: the file is kept until none has */
  inManifests(sha256: string): Awaitable<boolean>;
  /** the item was deleted: drop whatever would hand it out again (the TTS cache) */
  forget(contentId: string): Awaitable<unknown>;
  /** content id → when a broadcast of it last went on air (epoch ms) */
  lastAired(contentIds: string[]): Awaitable<Map<string, number>>;
  /** user id → the name they go by, for "uploaded by" */
  people(userIds: string[]): Awaitable<Map<string, string>>;
}
const NO_REFERENCES: ContentReferences = { broadcastsUsing: () => [], inManifests: () => false, forget: () => undefined, lastAired: () => new Map(), people: () => new Map() };

export interface IngestMeta {
  source: ContentSource;
  originalName?: string;
  title?: string;
}

/** An accepted item and the promise of its transcode (rejects with the reason it failed; already marked failed). */
export interface Submission {
  record: ContentRecord;
  done: Promise<ContentRecord>;
}

/**
 * The content library: every recording that may go on air, transcoded to the device format and loudness-normalised.
 *
 * What is written, and when: input that is refused up front (empty, not audio, declared too long) leaves nothing.
 * Accepted input gets a row at once ('uploading' while its original is copied into the store, then 'transcoding',
 * queued behind at most `concurrency` ffmpeg processes) and ends either 'ready' with its file stored under its hash,
 * or 'failed' with the reason — damage found while decoding, for instance, since that needs the whole decode.
 * A failed item leaves no file: temp files are removed and its original too, unless another live item shares it.
 * It is not listed, can still be read by id for FAILED_KEPT_MS, and is then pruned. Rows left unfinished by a crash
 * are marked failed when the service starts (`start()`, before it takes any upload).
 *
 * Deleting: refused while a broadcast not yet over airs the item. A deleted item is gone from the library (not
 * listed, 404) but its row stays, because broadcasts that aired it refer to it. Its stored file is removed as soon as
 * no other item has the same file and no manifest lists it (prune() retries what a manifest held).
 */
export class ContentService {
  readonly limits: ContentLimits;
  private readonly queue: JobQueue;
  /** transcode percentage per item; memory only, like the work it describes */
  private readonly progress = new Map<string, number>();
  /** by original sha256: concurrent uploads of the same file share one submission */
  private readonly inflight = new Map<string, Promise<Submission>>();

  constructor(
    private repo: ContentRepo,
    private store: ContentStore,
    private audit: AuditService,
    private clock: Clock,
    limits: Partial<ContentLimits> = {},
    private refs: ContentReferences = NO_REFERENCES,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.queue = new JobQueue(this.limits.concurrency);
    this.store.clearTemp();
  }

  /** Marks failed the items a crash left unfinished; called once, before the service takes any upload. */
  async start(): Promise<void> {
    await this.repo.failUnfinished('interrupted: the server stopped while this item was being processed; upload it again');
  }

  /** Ingests a file the caller owns (and removes afterwards) and resolves once it is ready; rejects with an AppError. */
  async ingest(inputPath: string, meta: IngestMeta, actor: Actor): Promise<ContentRecord> {
    return (await this.submit(inputPath, meta, actor)).done;
  }

  /**
   * Checks and accepts a file, copies it into the store, queues the transcode and resolves with the new row; the
   * caller's file may be removed as soon as this resolves. An original already ingested returns the existing item.
   */
  async submit(inputPath: string, meta: IngestMeta, actor: Actor): Promise<Submission> {
    const size = (await stat(inputPath)).size;
    if (size === 0) throw new AppError(400, 'the file is empty', 'body/file');
    const originalSha256 = await hashFile(inputPath);
    // No await between this lookup and the map entry below: that is what makes concurrent duplicates share one.
    // So the lookup of an existing item is part of the submission in the map.
    const pending = this.inflight.get(originalSha256);
    if (pending) return pending;
    const submission = (async (): Promise<Submission> => {
      const existing = await this.repo.findByOriginal(originalSha256);
      if (existing) {
        const record = this.toRecord(existing);
        return { record, done: Promise.resolve(record) };
      }
      return this.accept(inputPath, originalSha256, size, meta, actor);
    })();
    this.inflight.set(originalSha256, submission);
    const settled = () => this.inflight.get(originalSha256) === submission && this.inflight.delete(originalSha256);
    submission.then((s) => s.done).then(settled, settled);
    return submission;
  }

  /**
   * Takes in a file already in the device format (Ogg/Opus mono, 48 kHz) as a ready item without transcoding it:
   * the recording of a live airing is kept exactly as it went out. The caller's file is moved into the store.
   */
  async adopt(file: string, meta: { title: string; durationMs: number; source: ContentSource }, actor: Actor): Promise<ContentRecord> {
    const { size } = await stat(file);
    if (size === 0) throw new AppError(400, 'the recording is empty', 'body/file');
    const sha256 = await hashFile(file);
    await this.store.putContent(file, sha256);
    const id = newId('ct');
    await this.repo.insert({ id, sha256, state: 'ready', error: null, source: meta.source, title: meta.title, bytes: size, durationMs: meta.durationMs, createdBy: actor.name, createdAt: this.clock.now() });
    await this.audit.record(actor, 'content.recorded', { type: 'content', id }, { title: meta.title, durationMs: meta.durationMs });
    return this.toRecord((await this.repo.get(id))!);
  }

  async get(id: string): Promise<ContentRecord> {
    return this.toRecord(await this.row(id, 'params/id'));
  }

  /**
   * The library, newest first, a page at a time; `q` matches part of the title ignoring case and diacritics, since
   * officers often type without them on a phone. Each item says which broadcasts not yet over hold it (so the console
   * can say why it cannot be deleted) and when it last aired.
   */
  async list(q: ContentListQuery = {}): Promise<ContentListItem[]> {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const needle = fold(q.q ?? '');
    let rows: ContentRow[];
    if (!needle) rows = await this.repo.list(limit, offset, q.source);
    else {
      // SQLite's LIKE folds ASCII case only ("Đ" ≠ "đ", "ê" ≠ "e"), so titles are matched here; ids and titles of a
      // commune's library are a few hundred short strings.
      const ids = (await this.repo.titles(q.source)).filter((r) => fold(r.title ?? '').includes(needle)).slice(offset, offset + limit).map((r) => r.id);
      const byId = new Map((await this.repo.byIds(ids)).map((r) => [r.id, r]));
      rows = ids.map((id) => byId.get(id)).filter((r) => r !== undefined);
    }
    const aired = await this.refs.lastAired(rows.map((r) => r.id));
    const names = await this.refs.people([...new Set(rows.map((r) => r.createdBy).filter((u) => u !== null))]);
    const items: ContentListItem[] = [];
    for (const r of rows) {
      const at = aired.get(r.id);
      items.push({
        ...this.toRecord(r),
        createdByName: r.createdBy ? (names.get(r.createdBy) ?? null) : null,
        usedBy: await this.refs.broadcastsUsing(r.id),
        lastAiredAt: at === undefined ? null : new Date(at).toISOString(),
      });
    }
    return items;
  }

  /** What a broadcast needs to send an item to devices. 404 if unknown, 409 unless ready with its file in place. */
  async playable(id: string): Promise<Playable> {
    const row = await this.row(id, 'body/contentId');
    if (row.state !== 'ready' || !row.sha256) throw conflict(`content ${id} is ${row.state}, not ready to air`, 'body/contentId');
    if (!this.store.has(row.sha256)) throw conflict(`the audio file of content ${id} is missing from the store`, 'body/contentId');
    return { sha256: row.sha256, size: row.bytes ?? 0, durationMs: row.durationMs ?? 0 };
  }

  /** The stored file of a ready item, for preview in the console. */
  async audioFile(id: string): Promise<{ path: string; size: number; sha256: string }> {
    const row = await this.row(id, 'params/id');
    if (row.state !== 'ready' || !row.sha256 || !this.store.has(row.sha256)) throw conflict(`content ${id} is ${row.state}, not ready`, 'params/id');
    return { path: this.store.pathOf(row.sha256), size: row.bytes ?? 0, sha256: row.sha256 };
  }

  /**
   * Deletes a ready or failed item: 409 naming the broadcasts while any not yet over airs it, 409 while it is still
   * being processed. Returns whether its stored file went with it (false while another item or a manifest has it).
   */
  async remove(id: string, actor: Actor): Promise<{ fileRemoved: boolean }> {
    const row = await this.row(id, 'params/id');
    if (row.state === 'uploading' || row.state === 'transcoding') throw conflict(`content ${id} is still ${row.state}; delete it once it is ready or has failed`, 'params/id');
    const using = await this.refs.broadcastsUsing(id);
    if (using.length) {
      const names = using.map((b) => `"${b.title}" (${b.broadcastId}, ${b.state})`).join(', ');
      throw new AppError(409, `content ${id} is used by ${using.length === 1 ? 'a broadcast' : 'broadcasts'} not yet over: ${names}; cancel ${using.length === 1 ? 'it' : 'them'} or wait until ${using.length === 1 ? 'it ends' : 'they end'}`, 'params/id', using);
    }
    // A failed item was never aired (playable() needs 'ready'), so nothing refers to its row.
    if (row.state === 'failed') await this.repo.remove(id);
    else await this.repo.update(id, { state: 'deleted' });
    await this.refs.forget(id);
    const fileRemoved = row.sha256 !== null && (await this.releaseFile(row.sha256));
    if (row.originalSha256) await this.releaseOriginal(row.originalSha256);
    await this.audit.record(actor, 'content.delete', { type: 'content', id }, { title: row.title, state: row.state, sha256: row.sha256, fileRemoved });
    return { fileRemoved };
  }

  /** Drops failed items older than FAILED_KEPT_MS and the files of deleted items that no manifest lists any more. */
  async prune(): Promise<{ failed: number; files: number }> {
    const originals = await this.repo.removeFailed(this.clock.now() - FAILED_KEPT_MS);
    for (const o of originals) if (o) await this.releaseOriginal(o); // a crash's interrupted items still have theirs
    let files = 0;
    for (const sha256 of await this.repo.deletedFiles()) if (this.store.has(sha256) && (await this.releaseFile(sha256))) files++;
    return { failed: originals.length, files };
  }

  /** A path in the store's temp folder for a file about to be ingested (same file system, cleared on start). */
  tempPath(suffix = ''): string {
    return this.store.tempPath(suffix);
  }

  /** Resolves once no ingest is in flight (tests, orderly shutdown). */
  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight.values()].map((s) => s.then((x) => x.done)));
  }

  private async accept(inputPath: string, originalSha256: string, originalBytes: number, meta: IngestMeta, actor: Actor): Promise<Submission> {
    const info = await probe(inputPath);
    const maxMs = this.limits.maxDurationS * 1000;
    if (info.durationMs !== null && !info.durationEstimated && info.durationMs > maxMs) throw tooLong(info.durationMs, maxMs);

    const id = newId('ct');
    await this.repo.insert({
      id, state: 'uploading', source: meta.source, title: meta.title ?? null, originalName: meta.originalName ?? null,
      originalSha256, originalBytes, createdBy: actor.id, createdAt: this.clock.now(),
    });
    await this.audit.record(actor, 'content.create', { type: 'content', id }, { source: meta.source, originalName: meta.originalName, originalSha256 });
    try {
      await this.store.putOriginal(inputPath, originalSha256);
    } catch (err) {
      await this.fail(id, originalSha256, err);
      throw err;
    }
    await this.repo.update(id, { state: 'transcoding' });
    this.progress.set(id, 0);
    const done = this.queue.run(() => this.process(id, originalSha256, info));
    done.catch(() => undefined); // the row records the failure; nobody has to await a 202's work
    return { record: await this.get(id), done };
  }

  private async process(id: string, originalSha256: string, info: Awaited<ReturnType<typeof probe>>): Promise<ContentRecord> {
    const tmp = this.store.tempPath('.ogg');
    try {
      const r = await transcode(this.store.originalPath(originalSha256), tmp, {
        probe: info,
        maxDurationMs: this.limits.maxDurationS * 1000,
        onProgress: (f) => this.progress.set(id, Math.max(this.progress.get(id) ?? 0, Math.min(99, Math.floor(f * 100)))),
      }).catch((err) => {
        throw this.refusal(err);
      });
      const sha256 = await hashFile(tmp);
      const bytes = (await stat(tmp)).size;
      // Claimed before it is moved in: a deleted item with the same file must not have it removed meanwhile.
      await this.repo.update(id, { sha256 });
      await this.store.putContent(tmp, sha256);
      await this.repo.update(id, {
        state: 'ready', error: null, sha256, bytes, durationMs: r.durationMs,
        loudnessLufs: r.integratedLufs, truePeakDbtp: r.truePeakDbtp, inputLoudnessLufs: r.inputLufs,
      });
      return await this.get(id);
    } catch (err) {
      await this.fail(id, originalSha256, err);
      throw err;
    } finally {
      this.progress.delete(id);
      await rm(tmp, { force: true });
    }
  }

  private async fail(id: string, originalSha256: string, err: unknown): Promise<void> {
    const message = err instanceof AppError ? err.message : `processing failed: ${(err as Error)?.message ?? String(err)}`;
    await this.repo.update(id, { state: 'failed', error: message.slice(0, 1000), sha256: null });
    await this.releaseOriginal(originalSha256);
  }

  /**
   * ffmpeg failing on a file it has already probed and accepted (an encoder or measurement error rather than a
   * refusal) is about that file: 422 with ffmpeg's words, not a bare 500. A system error (disk full) stays a server
   * fault; an ffmpeg that cannot start fails the probe, before any item exists.
   */
  private refusal(err: unknown): unknown {
    if (err instanceof AppError || !(err instanceof Error) || (err as NodeJS.ErrnoException).code) return err;
    return new AppError(422, `the file could not be converted: ${err.message.replaceAll(this.store.dir, 'store')}`, 'body/file');
  }

  /** A row that is in the library, or was until it failed; deleted items are not found. */
  private async row(id: string, field: string): Promise<ContentRow> {
    const row = await this.repo.get(id);
    if (!row || row.state === 'deleted') throw notFound('content', field);
    return row;
  }

  /** Removes a stored file nothing has any more: no item in the library, no manifest. */
  private async releaseFile(sha256: string): Promise<boolean> {
    if ((await this.repo.hasLiveFile(sha256)) || (await this.refs.inManifests(sha256))) return false;
    this.store.removeContent(sha256);
    return true;
  }

  /** An upload of the same original still before its row is inserted has not copied it in yet, so it copies it again. */
  private async releaseOriginal(originalSha256: string): Promise<void> {
    if (!(await this.repo.findByOriginal(originalSha256))) this.store.removeOriginal(originalSha256);
  }

  private toRecord(row: ContentRow): ContentRecord {
    const ready = row.state === 'ready' && row.loudnessLufs !== null && row.truePeakDbtp !== null && row.inputLoudnessLufs !== null;
    return {
      id: row.id,
      state: row.state as ContentRecord['state'],
      progress: row.state === 'transcoding' ? (this.progress.get(row.id) ?? 0) : null,
      error: row.error,
      source: row.source as ContentSource,
      title: row.title,
      originalName: row.originalName,
      originalSha256: row.originalSha256,
      originalBytes: row.originalBytes,
      sha256: row.sha256,
      bytes: row.bytes,
      durationMs: row.durationMs,
      loudness: ready ? { integratedLufs: row.loudnessLufs!, truePeakDbtp: row.truePeakDbtp!, inputLufs: row.inputLoudnessLufs! } : null,
      createdBy: row.createdBy,
      createdAt: new Date(row.createdAt).toISOString(),
    };
  }
}

/** Lower case without diacritics ("Đê điều" → "de dieu"): what a title search compares. */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
  });
}
