/**
 * Going live from the console: a session is one broadcast of one microphone stream. The officer's browser streams
 * its microphone over a WebSocket (MediaRecorder chunks); the session decodes it into the stream. A dropped
 * WebSocket (4G) keeps the session on air, silent, for a grace period so the page can reconnect; then it ends.
 */
import type { Logger } from 'pino';
import type { LiveEndReason, LiveSession, LiveSessionInput } from '../../../schemas/api/live.ts';
import type { BroadcastsService } from '../broadcasts/broadcasts.service.ts';
import type { Actor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { conflict, forbidden, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { LiveRepo, LiveSessionRow } from './live.repo.ts';
import type { LiveService } from './live.service.ts';
import { micStreamId } from './live.service.ts';
import { startMicIngest, type MicIngest } from './mic-ingest.ts';
import type { PcmQueue } from './pcm.ts';

/** How long a session stays on air without its console connected. */
export const RECONNECT_GRACE_MS = 20_000;

interface Open {
  queue: PcmQueue;
  ingest: MicIngest | null;
  /** the socket feeding it now; a new one replaces it */
  feeder: object | null;
  orphaned: NodeJS.Timeout | null;
  maxTimer: NodeJS.Timeout;
}

export class LiveSessionsService {
  private open = new Map<string, Open>();

  constructor(
    private repo: LiveRepo,
    private live: LiveService,
    private broadcasts: BroadcastsService,
    private bus: Bus,
    private clock: Clock,
    private log: Logger,
    private opts: { ffmpeg: () => string; maxMs: number },
  ) {
    bus.on('broadcast.changed', (p) => {
      if (p.state !== 'cancelled' && p.state !== 'done' && p.state !== 'expired') return;
      void (async () => {
        const s = await this.repo.openSessionOf(p.broadcastId);
        if (s) await this.finish(s.id, 'broadcast_over');
      })().catch((err: unknown) => this.log.error({ err, broadcastId: p.broadcastId }, 'live session not ended with its broadcast'));
    });
  }

  /** Called once, before any session is opened. */
  async start(): Promise<void> {
    // A session is not survived by a restart: the stream and the console's socket are gone with the process.
    for (const s of [...(await this.repo.sessionsIn('waiting')), ...(await this.repo.sessionsIn('live'))]) {
      await this.repo.updateSession(s.id, { state: 'ended', endedAt: this.clock.now(), endReason: 'restarted' });
    }
  }

  async create(input: LiveSessionInput, actor: Actor): Promise<LiveSession> {
    const id = newId('ls');
    const row: LiveSessionRow = { id, broadcastId: '', state: 'waiting', createdBy: actor.name, startedAt: this.clock.now(), endedAt: null, endReason: null };
    // The stream runs before the order goes out, so a cluster that asks for it at once finds it.
    const { queue } = await this.live.startMicrophone(id, '');
    let broadcastId: string;
    try {
      broadcastId = (await this.broadcasts.createLive(input, id, actor)).id;
    } catch (e) {
      await this.live.stop(micStreamId(id));
      throw e;
    }
    await this.live.attach(micStreamId(id), broadcastId);
    row.broadcastId = broadcastId;
    await this.repo.insertSession(row);
    const maxTimer = setTimeout(() => void this.finish(id, 'time_limit'), this.opts.maxMs);
    maxTimer.unref();
    this.open.set(id, { queue, ingest: null, feeder: null, orphaned: null, maxTimer });
    this.changed(id, 'waiting');
    return this.view(row);
  }

  async get(id: string, actor: Actor): Promise<LiveSession> {
    return this.view(await this.load(id, actor));
  }

  async end(id: string, actor: Actor): Promise<LiveSession> {
    const row = await this.load(id, actor);
    this.mayFeed(row, actor);
    await this.finish(id, 'ended');
    return this.view((await this.repo.session(id))!);
  }

  /**
   * A console connects its microphone. Only the officer who went live (or an admin) may feed the session; a new
   * connection replaces the previous one (a reconnect after a 4G drop).
   */
  async connect(id: string, actor: Actor): Promise<{ write(chunk: Buffer): void; close(): void }> {
    const row = await this.load(id, actor);
    this.mayFeed(row, actor);
    const o = this.open.get(id);
    if (!o || row.state === 'ended') throw conflict('the session has ended');
    const feeder = {};
    if (o.orphaned) clearTimeout(o.orphaned);
    o.orphaned = null;
    void o.ingest?.end();
    o.feeder = feeder;
    // A new MediaRecorder starts a new container: each connection gets its own decoder.
    o.ingest = startMicIngest({ ffmpeg: this.opts.ffmpeg(), log: this.log.child({ session: id }), queue: o.queue });
    const ingest = o.ingest;
    let first = true;
    return {
      write: (chunk) => {
        if (o.feeder !== feeder) return;
        ingest.write(chunk);
        if (first) {
          first = false;
          // Only a waiting session goes live: one ended meanwhile stays ended.
          void this.repo.updateSessionIn(id, ['waiting'], { state: 'live' }).then(
            (wasWaiting) => wasWaiting && this.changed(id, 'live'),
            (err: unknown) => this.log.error({ err, session: id }, 'live session not marked live'),
          );
        }
      },
      close: () => {
        if (o.feeder !== feeder) return;
        o.feeder = null;
        void ingest.end();
        o.orphaned = setTimeout(() => void this.finish(id, 'disconnected'), RECONNECT_GRACE_MS);
        o.orphaned.unref();
      },
    };
  }

  /** Ends the session: its stream (devices hear the end), its broadcast, its timers. */
  private async finish(id: string, reason: LiveEndReason): Promise<void> {
    const row = await this.repo.session(id);
    if (!row || row.state === 'ended') return;
    // Only one of two finishes at once (the time limit and the officer, say) ends it.
    if (!(await this.repo.updateSessionIn(id, ['waiting', 'live'], { state: 'ended', endedAt: this.clock.now(), endReason: reason }))) return;
    const o = this.open.get(id);
    if (o) {
      this.open.delete(id);
      clearTimeout(o.maxTimer);
      if (o.orphaned) clearTimeout(o.orphaned);
      await o.ingest?.end();
    }
    await this.broadcasts.endLive(row.broadcastId);
    this.changed(id, 'ended');
    await this.live.stop(micStreamId(id));
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.finish(id, 'restarted')));
  }

  private async load(id: string, actor: Actor): Promise<LiveSessionRow> {
    const row = await this.repo.session(id);
    if (!row) throw notFound('live session', 'params/id');
    try {
      await this.broadcasts.get(row.broadcastId, actor);
    } catch {
      throw notFound('live session', 'params/id');
    }
    return row;
  }

  private mayFeed(row: LiveSessionRow, actor: Actor): void {
    if (row.createdBy !== actor.name && actor.role !== 'admin') throw forbidden('only the officer who went live can speak in or end this session');
  }

  private changed(id: string, state: string): void {
    this.bus.emit('live.changed', { streamId: micStreamId(id), kind: 'microphone', sourceId: null, input: state === 'ended' ? null : 'microphone', switch: null, sessionId: id, state });
  }

  private async view(row: LiveSessionRow): Promise<LiveSession> {
    const b = await this.broadcasts.get(row.broadcastId, { id: null, name: 'system', role: 'system', scope: 'all' });
    return {
      id: row.id,
      broadcastId: row.broadcastId,
      streamId: micStreamId(row.id),
      state: row.state as LiveSession['state'],
      level: b.level,
      title: b.title,
      createdBy: row.createdBy,
      startedAt: new Date(row.startedAt).toISOString(),
      endedAt: row.endedAt === null ? null : new Date(row.endedAt).toISOString(),
      endReason: (row.endReason as LiveEndReason | null) ?? (row.state === 'ended' ? 'ended' : null),
      audioPath: `/api/live/sessions/${row.id}/audio`,
      onAir: b.live?.onAir ?? 0,
      targeted: b.delivery.targeted,
    };
  }
}
