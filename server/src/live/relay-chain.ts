/**
 * Failover for one relay source: the primary upstream, then each backup in turn, then the filler (a content item
 * looped at real time), then silence — and back up the list as soon as a better input plays again. Every switch is
 * an event with a reason, logged. All inputs feed one queue that the stream drains, so clusters hear a switch as a
 * change of audio, never as a break in the stream's timeline.
 *
 * Retrying: while off the primary, every retryS a probe ingest opens the primary into a scratch queue (never on
 * air); while on the filler or silence, a second probe opens one backup, round robin. A probe that delivers
 * RECOVERED_MS of audio is promoted — its ffmpeg becomes the active ingest, already connected and decoding, so the
 * switch has no reconnect gap — if it is still better than what plays (primary beats backup 1 beats backup 2 …).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { StreamSwitch } from '../../../schemas/api/live.ts';
import { Ingest, redact, type IngestFailure } from './ingest.ts';
import { PcmQueue } from './pcm.ts';

export interface RelayChainOptions {
  /** primary first, then the backups in the order to try them */
  urls: string[];
  /** an audio file looped while no upstream plays; null = silence */
  fillerPath: string | null;
  stallS: number;
  retryS: number;
  now: () => number;
  ffmpeg: string;
  log: Logger;
}

export type RelayInput = 'primary' | 'backup' | 'filler' | 'silence';
export interface RelayStatus {
  input: RelayInput;
  /** 1-based, when input is backup */
  backup: number | null;
  since: number;
  switches: StreamSwitch[];
}

/** How much audio a probe must deliver before the chain goes back to it: one good burst is not recovery. */
export const RECOVERED_MS = 2000;
/** Small: a relay joins the live position (Icecast's connect burst is dropped), and the delay stays low. */
export const QUEUE_MS = 500;
const SWITCHES_KEPT = 50;

export class RelayChain extends EventEmitter {
  readonly queue: PcmQueue;
  private active: Ingest | null = null;
  /** index into urls; urls.length = filler, urls.length + 1 = silence */
  private at: number;
  private since: number;
  private switches: StreamSwitch[] = [];
  private probes = new Map<number, Ingest>();
  private nextBackup = 1;
  private retry: NodeJS.Timeout | null = null;
  private watch: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly all = new Set<Ingest>();

  constructor(private readonly o: RelayChainOptions) {
    super();
    this.queue = new PcmQueue(QUEUE_MS, o.now);
    this.since = o.now();
    this.at = o.urls.length + 1;
  }

  start(): void {
    if (this.stopped || this.retry) return;
    this.switchTo(this.o.urls.length ? 0 : this.o.urls.length, 'started');
    this.retry = setInterval(() => this.guard(() => this.tryBetter()), this.o.retryS * 1000);
    this.watch = setInterval(() => this.guard(() => this.promoteRecovered()), 200);
    this.retry.unref();
    this.watch.unref();
  }

  status(): RelayStatus {
    const input = this.inputOf(this.at);
    return { input, backup: input === 'backup' ? this.at : null, since: this.since, switches: this.switches.slice(-SWITCHES_KEPT) };
  }

  /** Stops every ffmpeg of the chain; resolves once they have exited. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearInterval(this.retry);
    if (this.watch) clearInterval(this.watch);
    for (const ingest of this.all) ingest.stop();
    const exits = [...this.all].map((i) => i.exited());
    this.all.clear();
    this.active = null;
    this.probes.clear();
    return Promise.all(exits).then(() => undefined);
  }

  private inputOf(i: number): RelayInput {
    if (i === 0) return 'primary';
    if (i < this.o.urls.length) return 'backup';
    return i === this.o.urls.length && this.o.fillerPath ? 'filler' : 'silence';
  }

  private label(i: number): string {
    const input = this.inputOf(i);
    return input === 'backup' ? `backup ${i}` : input;
  }

  /** No upstream behaviour may take the server down: a throw in a timer or callback is logged, not rethrown. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, 'relay chain error');
    }
  }

  private ingest(i: number, onAir: boolean): Ingest {
    const filler = i === this.o.urls.length;
    const ingest: Ingest = new Ingest({
      input: filler ? this.o.fillerPath! : this.o.urls[i]!,
      loop: filler,
      ffmpeg: this.o.ffmpeg,
      queue: onAir ? this.queue : new PcmQueue(RECOVERED_MS * 2, this.o.now),
      log: this.o.log.child({ input: this.label(i), probe: !onAir }),
      stallS: this.o.stallS,
      onFailure: (reason) => this.guard(() => this.failed(ingest, i, reason)),
    });
    this.all.add(ingest);
    void ingest.exited().then(() => this.all.delete(ingest));
    return ingest;
  }

  private failed(ingest: Ingest, i: number, reason: IngestFailure): void {
    if (this.stopped) return;
    if (this.probes.get(i) === ingest) this.probes.delete(i);
    if (ingest !== this.active) return;
    this.active = null;
    // The next input down the list; the filler only when there is one, and silence when even the filler fails.
    let next = i + 1;
    if (next === this.o.urls.length && !this.o.fillerPath) next++;
    this.switchTo(Math.min(next, this.o.urls.length + 1), reason);
  }

  private switchTo(i: number, reason: string, promoted?: Ingest): void {
    const from = this.label(this.at);
    this.active?.stop();
    this.active = null;
    this.queue.clear();
    this.at = i;
    if (promoted) {
      promoted.queue = this.queue;
      this.active = promoted;
    } else if (i <= this.o.urls.length && this.inputOf(i) !== 'silence') {
      this.active = this.ingest(i, true);
    }
    // Probes for what now plays, or for anything worse, are of no more use.
    for (const [k, p] of this.probes) {
      if (k >= i) {
        if (p !== promoted) p.stop();
        this.probes.delete(k);
      }
    }
    this.since = this.o.now();
    const sw: StreamSwitch = { at: new Date(this.since).toISOString(), from, to: this.label(i), reason };
    this.switches.push(sw);
    if (this.switches.length > SWITCHES_KEPT) this.switches.shift();
    this.o.log.info({ ...sw, url: i < this.o.urls.length ? redact(this.o.urls[i]!) : undefined }, 'relay switched input');
    this.emit('switch', sw);
  }

  private tryBetter(): void {
    if (this.stopped || this.at === 0) return;
    this.probe(0);
    const backups = this.o.urls.length - 1;
    if (this.at >= this.o.urls.length && backups > 0) {
      this.probe(this.nextBackup);
      this.nextBackup = (this.nextBackup % backups) + 1;
    }
  }

  private probe(i: number): void {
    if (i >= this.at || this.probes.has(i)) return;
    this.probes.set(i, this.ingest(i, false));
  }

  private promoteRecovered(): void {
    if (this.stopped) return;
    const ready = [...this.probes].filter(([k, p]) => k < this.at && p.audioMs >= RECOVERED_MS).sort(([a], [b]) => a - b)[0];
    if (!ready) return;
    this.probes.delete(ready[0]);
    this.switchTo(ready[0], 'recovered', ready[1]);
  }
}
