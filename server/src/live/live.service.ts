/**
 * The live streams the server produces now: one per relay source that some broadcast airs (ingested once however
 * many clusters listen), one per microphone session. It starts a relay's stream a little before the first broadcast
 * that needs it and stops it when none does; it hands each broadcast the stream item devices play, answers which
 * cluster may listen, and files the recording of what aired with every broadcast that aired it.
 *
 * A stream lives in the process that ingests it: with several server instances, one (the job leader) runs them.
 */
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Broadcast } from '../../../schemas/api/broadcasts.ts';
import type { StreamStatus, StreamSwitch } from '../../../schemas/api/live.ts';
import type { StreamSpec } from '../../../schemas/device-protocol/stream.ts';
import type { BroadcastRow } from '../broadcasts/broadcasts.repo.ts';
import { systemActor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { newId } from '../shared/ids.ts';
import { LiveStream } from './live-stream.ts';
import type { LiveRepo, RelaySourceRow } from './live.repo.ts';
import { PcmQueue, samplesToMs } from './pcm.ts';
import { RelayChain } from './relay-chain.ts';
import { IcecastPush } from './icecast-push.ts';

/** A relay's stream starts this long before the broadcast, so the ingest has settled when clusters join. */
export const RELAY_LEAD_MS = 20_000;
/** and keeps running this long after the last broadcast that needs it (back-to-back slots share one ingest). */
const RELAY_LINGER_MS = 15_000;

export type LiveSourceRef = { relay: { sourceId: string; durationS: number } } | { live: { sessionId: string } };

export function liveSourceOf(source: unknown): LiveSourceRef | null {
  if (source && typeof source === 'object' && ('relay' in source || 'live' in source)) return source as LiveSourceRef;
  return null;
}

export const relayStreamId = (sourceId: string) => `r-${sourceId}`;
export const micStreamId = (sessionId: string) => `m-${sessionId}`;
/** The session of a microphone stream id. */
export const sessionOf = (streamId: string) => streamId.slice(2);

interface Running {
  id: string;
  kind: 'relay' | 'microphone';
  sourceId: string | null;
  stream: LiveStream;
  chain: RelayChain | null;
  /** microphone: where the session's audio is pushed */
  queue: PcmQueue;
  broadcasts: Set<string>;
  startedAt: number;
  lastNeeded: number;
  switches: StreamSwitch[];
  input: StreamStatus['input'];
  backup: number | null;
  since: number;
  icecast: IcecastPush | null;
  stopping: Promise<void> | null;
}

export interface LiveOptions {
  ffmpeg: () => string;
  dataDir: string;
  latencyMs: number;
  /** Icecast as the distribution engine: where the server pushes (source) and where clusters listen */
  icecast: { pushBase: string; password: string; listenBase: string } | null;
}

/** What the live service needs from outside: broadcasts to air, content to record into, manifests to authorise. */
export interface LiveLinks {
  relayBroadcasts(from: number, to: number): Promise<BroadcastRow[]>;
  holdsStream(url: string, clusterId: string): Promise<boolean>;
  fillerPath(contentId: string): Promise<string | null>;
  adoptRecording(file: string, title: string, durationMs: number): Promise<string>;
  source(id: string): Promise<RelaySourceRow | undefined>;
}

export class LiveService {
  private running = new Map<string, Running>();

  constructor(
    private repo: LiveRepo,
    private links: LiveLinks,
    private bus: Bus,
    private clock: Clock,
    private log: Logger,
    private opts: LiveOptions,
  ) {
    mkdirSync(this.recordDir(), { recursive: true });
  }

  private recordDir(): string {
    return join(this.opts.dataDir, 'recordings');
  }

  // ---- what broadcasts and devices ask --------------------------------------------------------------------

  /** The play item's stream for a live or relay broadcast. */
  specFor(row: BroadcastRow): StreamSpec {
    const ref = liveSourceOf(row.source)!;
    const id = 'relay' in ref ? relayStreamId(ref.relay.sourceId) : micStreamId(ref.live.sessionId);
    return { url: this.urlOf(id), codec: 'opus', latencyMs: this.opts.latencyMs, durationMs: 'relay' in ref ? ref.relay.durationS * 1000 : null };
  }

  private urlOf(streamId: string): string {
    return this.opts.icecast ? `${this.opts.icecast.listenBase}/${streamId}.ogg` : `/api/device/live/${streamId}`;
  }

  stream(id: string): LiveStream | undefined {
    return this.running.get(id)?.stream;
  }

  /** Only a cluster whose manifest holds an item of this stream (not removed, not expired) may listen. */
  async mayListen(streamId: string, clusterId: string): Promise<boolean> {
    return this.running.has(streamId) && (await this.links.holdsStream(this.urlOf(streamId), clusterId));
  }

  /** Icecast URL auth (icecast-auth.routes.ts): the running stream Icecast serves at this mount, if any. */
  streamAtMount(mount: string): string | null {
    if (!this.opts.icecast) return null;
    for (const id of this.running.keys()) if (new URL(this.urlOf(id)).pathname === mount) return id;
    return null;
  }

  status(streamId: string): StreamStatus | null {
    const r = this.running.get(streamId);
    if (!r) return null;
    return {
      streamId: r.id,
      kind: r.kind,
      sourceId: r.sourceId,
      input: r.input,
      backup: r.backup,
      since: new Date(r.since).toISOString(),
      startedAt: new Date(r.startedAt).toISOString(),
      listeners: r.stream.audience,
      paddedMs: Math.round(samplesToMs(r.queue.padded)),
      droppedMs: Math.round(samplesToMs(r.queue.dropped)),
      droppedPages: r.stream.droppedPages,
      switches: r.switches.slice(-50),
    };
  }

  sourceStatus(sourceId: string): StreamStatus | null {
    return this.status(relayStreamId(sourceId));
  }

  list(): StreamStatus[] {
    return [...this.running.keys()].map((id) => this.status(id)!);
  }

  /** The `live` part of a broadcast's view. */
  async viewOf(row: BroadcastRow, counts: { onAir: number; underruns: number }): Promise<Broadcast['live']> {
    const ref = liveSourceOf(row.source);
    if (!ref) return null;
    const streamId = 'relay' in ref ? relayStreamId(ref.relay.sourceId) : micStreamId(ref.live.sessionId);
    const st = this.running.get(streamId)?.broadcasts.has(row.id) ? this.status(streamId) : null;
    const sourceId = 'relay' in ref ? ref.relay.sourceId : null;
    return {
      kind: 'relay' in ref ? 'relay' : 'microphone',
      sourceId,
      sourceName: sourceId ? ((await this.links.source(sourceId))?.name ?? null) : null,
      onAir: counts.onAir,
      underruns: counts.underruns,
      input: st?.input ?? null,
      switches: await this.repo.switchesOf(row.id),
      recordingId: await this.repo.recordingOf(row.id),
    };
  }

  // ---- running streams ------------------------------------------------------------------------------------

  /**
   * Starts the relays broadcasts are about to air and stops those none needs any more. Every second, from the
   * background jobs; cheap when nothing is live.
   */
  async tick(): Promise<void> {
    const now = this.clock.now();
    const wanted = new Map<string, Set<string>>();
    for (const row of await this.links.relayBroadcasts(now - 6 * 3_600_000, now + RELAY_LEAD_MS)) {
      const ref = liveSourceOf(row.source);
      if (!ref || !('relay' in ref) || row.startAt === null) continue;
      if (now > row.startAt + ref.relay.durationS * 1000 + 5_000) continue;
      const set = wanted.get(ref.relay.sourceId) ?? new Set<string>();
      set.add(row.id);
      wanted.set(ref.relay.sourceId, set);
    }
    for (const [sourceId, ids] of wanted) {
      const r = this.running.get(relayStreamId(sourceId)) ?? (await this.startRelay(sourceId));
      if (!r) continue;
      for (const id of ids) await this.join(r, id);
      r.lastNeeded = now;
    }
    for (const r of this.running.values()) {
      if (r.kind === 'relay' && !wanted.has(r.sourceId!) && now - r.lastNeeded > RELAY_LINGER_MS) void this.stop(r.id);
    }
  }

  private async startRelay(sourceId: string): Promise<Running | null> {
    const src = await this.links.source(sourceId);
    if (!src) return null;
    const id = relayStreamId(sourceId);
    const fillerPath = src.fillerContentId ? await this.links.fillerPath(src.fillerContentId) : null;
    const chain = new RelayChain({ urls: [src.primaryUrl, ...src.backupUrls], fillerPath, stallS: src.stallS, retryS: src.retryS, now: () => this.clock.now(), ffmpeg: this.opts.ffmpeg(), log: this.log.child({ stream: id }) });
    const r = await this.launch(id, 'relay', sourceId, chain.queue, chain);
    chain.on('switch', (sw: StreamSwitch) => void this.onSwitch(r, sw).catch((err: unknown) => this.log.error({ err, stream: id }, 'live stream switch not stored')));
    chain.start();
    const st = chain.status();
    Object.assign(r, { input: st.input, backup: st.backup, since: st.since });
    return r;
  }

  /** A microphone session's stream: the console's audio is pushed into `queue` by the session's ingest. */
  async startMicrophone(sessionId: string, broadcastId: string): Promise<{ streamId: string; queue: PcmQueue }> {
    const id = micStreamId(sessionId);
    const r = await this.launch(id, 'microphone', null, new PcmQueue(400, () => this.clock.now()), null);
    r.input = 'microphone';
    if (broadcastId) await this.join(r, broadcastId);
    return { streamId: id, queue: r.queue };
  }

  /** Files the stream's recording with this broadcast too. */
  async attach(streamId: string, broadcastId: string): Promise<void> {
    const r = this.running.get(streamId);
    if (r) await this.join(r, broadcastId);
  }

  /** A broadcast starts airing a running stream: its log opens with how the stream is fed now. */
  private async join(r: Running, broadcastId: string): Promise<void> {
    if (r.broadcasts.has(broadcastId)) return;
    r.broadcasts.add(broadcastId);
    const last = r.switches.at(-1);
    if (last) await this.repo.addSwitch(broadcastId, last);
  }

  private async launch(id: string, kind: Running['kind'], sourceId: string | null, queue: PcmQueue, chain: RelayChain | null): Promise<Running> {
    const now = this.clock.now();
    const recordPath = join(this.recordDir(), `${id}-${now}-${newId('rec', 6)}.ogg`);
    const stream = new LiveStream({ id, kind, now: () => this.clock.now(), ffmpeg: this.opts.ffmpeg(), log: this.log.child({ stream: id }), recordPath });
    const r: Running = { id, kind, sourceId, stream, chain, queue, broadcasts: new Set(), startedAt: now, lastNeeded: now, switches: [], input: 'silence', backup: null, since: now, icecast: null, stopping: null };
    this.running.set(id, r);
    stream.on('error', (err: unknown) => this.log.error({ err, stream: id }, 'live stream encoder failed'));
    try {
      await stream.start();
    } catch (err) {
      this.running.delete(id);
      void chain?.stop();
      throw err;
    }
    stream.feed(queue);
    if (this.opts.icecast) {
      r.icecast = new IcecastPush({ url: `${this.opts.icecast.pushBase}/${id}.ogg`, password: this.opts.icecast.password, headers: () => stream.headers(), subscribe: (fn) => stream.subscribe(fn), log: this.log.child({ stream: id, icecast: true }) });
      r.icecast.start();
    }
    // A relay's chain reports its own start (silence → primary, started) once it runs; a microphone has no chain.
    if (!chain) await this.switched(r, { at: new Date(now).toISOString(), from: 'silence', to: 'microphone', reason: 'started' });
    return r;
  }

  private async onSwitch(r: Running, sw: StreamSwitch): Promise<void> {
    const st = r.chain?.status();
    if (st) Object.assign(r, { input: st.input, backup: st.backup, since: st.since });
    await this.switched(r, sw);
  }

  /** The switch is in memory at once; told (log, bus) once every broadcast airing the stream has it stored. */
  private async switched(r: Running, sw: StreamSwitch): Promise<void> {
    r.switches.push(sw);
    if (r.switches.length > 50) r.switches.shift();
    for (const b of r.broadcasts) await this.repo.addSwitch(b, sw);
    this.log.info({ stream: r.id, ...sw }, 'live stream input');
    this.bus.emit('live.changed', { streamId: r.id, kind: r.kind, sourceId: r.sourceId, input: r.input, switch: sw });
  }

  /** Ends a stream: devices see its end, and the audio as aired is filed with every broadcast it served. */
  stop(streamId: string): Promise<void> {
    const r = this.running.get(streamId);
    if (!r) return Promise.resolve();
    r.stopping ??= (async () => {
      void r.chain?.stop();
      r.icecast?.stop();
      let rec: { path: string; durationMs: number } | null = null;
      try {
        rec = await r.stream.stop();
      } finally {
        this.running.delete(streamId);
        this.bus.emit('live.changed', { streamId, kind: r.kind, sourceId: r.sourceId, input: null, switch: null });
      }
      if (rec && r.broadcasts.size && rec.durationMs > 0) {
        try {
          const title = r.kind === 'relay' ? `Tiếp sóng ${(await this.links.source(r.sourceId!))?.name ?? ''}`.trim() : 'Phát trực tiếp';
          const contentId = await this.links.adoptRecording(rec.path, `${title} ${new Date(r.startedAt).toISOString()}`, rec.durationMs);
          for (const b of r.broadcasts) await this.repo.addRecording(b, contentId, this.clock.now());
        } catch (err) {
          this.log.error({ err, stream: streamId }, 'recording not stored');
        }
      } else if (rec) rmSync(rec.path, { force: true });
    })();
    return r.stopping;
  }

  /** A broadcast no longer airs the stream (cancelled, ended): a microphone stream ends with its session. */
  release(broadcastId: string): void {
    for (const r of this.running.values()) if (r.kind === 'microphone' && r.broadcasts.has(broadcastId)) void this.stop(r.id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}
