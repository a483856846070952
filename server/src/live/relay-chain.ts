/**
 * Failover for one relay source: the primary upstream, then each backup in turn, then the filler (a content item
 * looped), then silence — and back to the primary once it plays again. Every switch is an event with a reason.
 * All inputs feed one queue that the stream drains, so clusters hear the switch as a change of audio, never as a
 * break in the stream's timeline.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { StreamSwitch } from '../../../schemas/api/live.ts';
import { Ingest, type IngestFailure } from './ingest.ts';
import { PcmQueue } from './pcm.ts';

export interface RelayChainOptions {
  urls: string[];
  fillerPath: string | null;
  stallS: number;
  retryS: number;
  now: () => number;
  ffmpeg: string;
  log: Logger;
}

/** How much audio a recovering primary must deliver before the chain goes back to it. */
const RECOVERED_MS = 2000;
/** Small: a relay joins the live position, and the delay to the speakers stays low. */
const QUEUE_MS = 600;

type Input = 'primary' | 'backup' | 'filler' | 'silence';

export class RelayChain extends EventEmitter {
  readonly queue: PcmQueue;
  private active: Ingest | null = null;
  private probe: Ingest | null = null;
  /** index into urls; urls.length = filler, urls.length + 1 = silence */
  private at = 0;
  private since: number;
  private switches: StreamSwitch[] = [];
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private o: RelayChainOptions) {
    super();
    this.queue = new PcmQueue(QUEUE_MS, o.now);
    this.since = o.now();
  }

  start(): void {
    this.open(0);
    this.retry = setInterval(() => this.tryPrimary(), this.o.retryS * 1000);
    this.retry.unref();
  }

  status(): { input: Input; backup: number | null; since: number; switches: StreamSwitch[] } {
    return { input: this.inputOf(this.at), backup: this.at > 0 && this.at < this.o.urls.length ? this.at : null, since: this.since, switches: this.switches.slice(-50) };
  }

  private inputOf(i: number): Input {
    if (i === 0) return 'primary';
    if (i < this.o.urls.length) return 'backup';
    return i === this.o.urls.length && this.o.fillerPath ? 'filler' : 'silence';
  }

  private label(i: number): string {
    const input = this.inputOf(i);
    return input === 'backup' ? `backup ${i}` : input;
  }

  private open(i: number): void {
    if (this.stopped) return;
    this.active?.stop();
    this.active = null;
    this.at = i;
    if (i < this.o.urls.length) this.active = this.ingest(this.o.urls[i]!, false, (reason) => this.failed(i, reason));
    else if (i === this.o.urls.length && this.o.fillerPath) this.active = this.ingest(this.o.fillerPath, true, (reason) => this.failed(i, reason));
  }

  private ingest(input: string, loop: boolean, onFailure: (r: IngestFailure) => void, onAudio?: () => void): Ingest {
    return new Ingest({ input, loop, ffmpeg: this.o.ffmpeg, queue: this.queue, log: this.o.log, stallS: this.o.stallS, onFailure, onAudio });
  }

  private failed(i: number, reason: IngestFailure): void {
    if (this.stopped || i !== this.at) return;
    const next = Math.min(i + 1, this.o.urls.length + 1);
    this.switchTo(next, reason);
  }

  private switchTo(i: number, reason: string): void {
    const from = this.label(this.at);
    this.open(i);
    this.since = this.o.now();
    const sw: StreamSwitch = { at: new Date(this.since).toISOString(), from, to: this.label(i), reason };
    this.switches.push(sw);
    if (this.switches.length > 50) this.switches.shift();
    this.o.log.info(sw, 'relay switched input');
    this.emit('switch', sw);
  }

  /**
   * Off the primary, it is tried again every retryS, into a queue of its own so a probe never mixes with the air;
   * once it has played RECOVERED_MS it takes over. From the filler or silence, the backups are tried the same way.
   */
  private tryPrimary(): void {
    if (this.stopped || this.at === 0 || this.probe) return;
    const target = 0;
    const scratch = new PcmQueue(RECOVERED_MS * 2, this.o.now);
    const probe = new Ingest({
      input: this.o.urls[target]!, ffmpeg: this.o.ffmpeg, queue: scratch, log: this.o.log, stallS: this.o.stallS,
      onFailure: () => {
        if (this.probe === probe) this.probe = null;
      },
    });
    this.probe = probe;
    const check = setInterval(() => {
      if (this.probe !== probe || this.stopped) return clearInterval(check);
      if (probe.audioMs >= RECOVERED_MS) {
        clearInterval(check);
        probe.stop();
        this.probe = null;
        this.switchTo(target, 'recovered');
      }
    }, 200);
    check.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearInterval(this.retry);
    this.active?.stop();
    this.probe?.stop();
    this.active = null;
    this.probe = null;
  }
}
