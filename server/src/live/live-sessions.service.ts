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
    // A session is not survived by a restart: the stream and the console's socket are gone with the process.
    for (const s of [...repo.sessionsIn('waiting'), ...repo.sessionsIn('live')]) repo.updateSession(s.id, { state: 'ended', endedAt: clock.now(), endReason: 'restarted' });
    bus.on('broadcast.changed', (p) => {
      if (p.state !== 'cancelled' && p.state !== 'done' && p.state !== 'expired') return;
      const s = this.repo.openSessionOf(p.broadcastId);
      if (s) void this.finish(s.id, 'broadcast_over');
    });
  }

  async create(input: LiveSessionInput, actor: Actor): Promise<LiveSession> {
    const id = newId('ls');
    const row: LiveSessionRow = { id, broadcastId: '', state: 'waiting', createdBy: actor.name, startedAt: this.clock.now(), endedAt: null, endReason: null };
    // The stream runs before the order goes out, so a cluster that asks for it at once finds it.
    const { queue } = await this.live.startMicrophone(id, '');
    let broadcastId: string;
    try {
      broadcastId = this.broadcasts.createLive(input, id, actor).id;
    } catch (e) {
      await this.live.stop(micStreamId(id));
      throw e;
    }
    this.live.attach(micStreamId(id), broadcastId);
    row.broadcastId = broadcastId;
    this.repo.insertSession(row);
    const maxTimer = setTimeout(() => void this.finish(id, 'time_limit'), this.opts.maxMs);
    maxTimer.unref();
    this.open.set(id, { queue, ingest: null, feeder: null, orphaned: null, maxTimer });
    this.changed(id, 'waiting');
    return this.view(row);
  }

  get(id: string, actor: Actor): LiveSession {
    return this.view(this.load(id, actor));
  }

  async end(id: string, actor: Actor): Promise<LiveSession> {
    const row = this.load(id, actor);
    this.mayFeed(row, actor);
    await this.finish(id, 'ended');
    return this.view(this.repo.session(id)!);
  }

  /**
   * A console connects its microphone. Only the officer who went live (or an admin) may feed the session; a new
   * connection replaces the previous one (a reconnect after a 4G drop).
   */
  connect(id: string, actor: Actor): { write(chunk: Buffer): void; close(): void } {
    const row = this.load(id, actor);
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
          if (this.repo.session(id)?.state === 'waiting') {
            this.repo.updateSession(id, { state: 'live' });
            this.changed(id, 'live');
          }
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
    const o = this.open.get(id);
    const row = this.repo.session(id);
    if (!row || row.state === 'ended') return;
    this.repo.updateSession(id, { state: 'ended', endedAt: this.clock.now(), endReason: reason });
    if (o) {
      this.open.delete(id);
      clearTimeout(o.maxTimer);
      if (o.orphaned) clearTimeout(o.orphaned);
      await o.ingest?.end();
    }
    this.broadcasts.endLive(row.broadcastId);
    this.changed(id, 'ended');
    await this.live.stop(micStreamId(id));
  }

  async close(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.finish(id, 'restarted')));
  }

  private load(id: string, actor: Actor): LiveSessionRow {
    const row = this.repo.session(id);
    if (!row) throw notFound('live session', 'params/id');
    try {
      this.broadcasts.get(row.broadcastId, actor);
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

  private view(row: LiveSessionRow): LiveSession {
    const b = this.broadcasts.get(row.broadcastId, { id: null, name: 'system', role: 'system', scope: 'all' });
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
