/**
 * NTP-style clock offset over MQTT. A burst of sequential samples is taken and the one with the smallest round trip
 * wins: queueing delay is what makes the two legs unequal, and the fastest exchange had the least of it.
 *
 * With `estimator: 'min-one-way'` the two legs are filtered separately instead: over the burst, the smallest
 * request leg (t1 − t0 = θ + up) and the smallest response leg (t3 − t2 = down − θ) give
 * θ = (min(t1 − t0) + max(t2 − t3)) / 2, whose error is half the difference of the two smallest one-way delays.
 * Its worst case is the same ±rtt/2 as the min-RTT sample, but one leg need not be lucky in the same exchange as the
 * other, so under jitter it is several times closer (see firmware-sim/README.md for measurements).
 *
 * t0 and t3 are the instants the packets cross the link, not when this code ran: a receiver stamps time-sync packets
 * at the wire (TX/RX timestamps) because queueing in its own stack is on one leg only and goes straight into the
 * offset. Here that queueing is the simulator's timer latency (link.ts, Deliver): on a 2-core box under load the link
 * released packets 4–10 ms late on average and up to ~200 ms, as much as the modelled jitter, which more than
 * doubled the smallest legs above the link's floor and the start error with them (playback-sync.test.ts).
 */
import { clockOffset, type TimeRequest, type TimeResponse } from '../../schemas/device-protocol/index.ts';
import type { DeviceClock } from './clock.ts';

export type TimeSyncEstimator = 'min-rtt' | 'min-one-way';

export interface TimeSyncOptions {
  /** Samples per burst. Default 4. */
  samples?: number;
  sampleTimeoutMs?: number;
  /** How a burst becomes one offset. Default 'min-rtt' (the contract's rule). */
  estimator?: TimeSyncEstimator;
}

export interface TimeSyncResult {
  offsetMs: number;
  rttMs: number;
  /**
   * The offset is within ± this of the truth, from the burst's own stamps whatever the link or the load did: half
   * the round trip of the best sample ('min-rtt'), or half the sum of the two smallest one-way delays
   * ((min(t1 − t0) − max(t2 − t3)) / 2, in which θ cancels: 'min-one-way'). Clock drift during the burst aside.
   */
  boundMs: number;
  /** Samples answered in this burst. */
  samples: number;
}

export class TimeSync {
  offsetMs: number | null = null;
  rttMs: number | null = null;
  /** Responses ignored because their id was not the one being waited for. */
  unexpected = 0;
  private seq = 0;
  private burst: {
    left: number;
    best: { offsetMs: number; rttMs: number } | null;
    /** Smallest t1 − t0 and largest t2 − t3 seen (for 'min-one-way'). */
    minUp: number;
    maxDown: number;
    answered: number;
    pending: { id: string; t0: number } | null;
    timer: NodeJS.Timeout | null;
  } | null = null;
  private readonly samples: number;
  private readonly sampleTimeoutMs: number;
  private readonly estimator: TimeSyncEstimator;

  constructor(
    private readonly clock: DeviceClock,
    /** Publish `req`; call `onWire` as it goes out with how late (ms) it left after the send (the TX stamp). */
    private readonly send: (req: TimeRequest, onWire: (lateMs: number) => void) => void,
    private readonly done: (r: TimeSyncResult | null) => void,
    opts: TimeSyncOptions = {},
  ) {
    this.samples = Math.max(1, opts.samples ?? 4);
    this.sampleTimeoutMs = opts.sampleTimeoutMs ?? 2000;
    this.estimator = opts.estimator ?? 'min-rtt';
  }

  get running(): boolean {
    return this.burst !== null;
  }

  /** Begin a burst unless one is already under way. */
  start(): void {
    if (this.burst) return;
    this.burst = { left: this.samples, best: null, minUp: Infinity, maxDown: -Infinity, answered: 0, pending: null, timer: null };
    this.next();
  }

  cancel(): void {
    if (this.burst?.timer) clearTimeout(this.burst.timer);
    this.burst = null;
  }

  /**
   * Feed a decoded response; t3 is taken here, less `lateMs`, how long ago the link delivered it (the RX stamp), so
   * call it as soon as the message is handled.
   */
  onResponse(res: TimeResponse, lateMs = 0): void {
    const t3 = this.clock.now() - lateMs;
    const b = this.burst;
    if (!b?.pending || b.pending.id !== res.id) {
      this.unexpected++;
      return;
    }
    // Our own record of t0, not the echo: a server bug must not move the device clock.
    const t0 = b.pending.t0;
    const s = clockOffset(t0, res.t1, res.t2, t3);
    if (b.timer) clearTimeout(b.timer);
    b.pending = null;
    if (Number.isFinite(s.offsetMs) && s.rttMs > -1 && res.t2 >= res.t1) {
      b.answered++;
      if (!b.best || s.rttMs < b.best.rttMs) b.best = { offsetMs: s.offsetMs, rttMs: Math.max(0, s.rttMs) };
      b.minUp = Math.min(b.minUp, res.t1 - t0);
      b.maxDown = Math.max(b.maxDown, res.t2 - t3);
    }
    this.next();
  }

  private next(): void {
    const b = this.burst!;
    if (b.left === 0) {
      this.burst = null;
      let boundMs = Infinity;
      if (b.best) {
        boundMs = b.best.rttMs / 2;
        if (this.estimator === 'min-one-way') {
          b.best.offsetMs = (b.minUp + b.maxDown) / 2;
          boundMs = Math.max(0, (b.minUp - b.maxDown) / 2);
        }
        this.offsetMs = b.best.offsetMs;
        this.rttMs = b.best.rttMs;
      }
      this.done(b.best ? { ...b.best, boundMs, samples: b.answered } : null);
      return;
    }
    b.left--;
    const req = { id: `ts-${++this.seq}`, t0: this.clock.now() };
    const pending = { ...req };
    b.pending = pending;
    b.timer = setTimeout(() => {
      if (this.burst !== b) return;
      b.pending = null;
      this.next();
    }, this.sampleTimeoutMs);
    // The payload keeps the t0 it was sent with; our record moves to the TX instant (the echo is not used anyway).
    this.send(req, (lateMs) => {
      if (b.pending === pending) pending.t0 += lateMs;
    });
  }
}
