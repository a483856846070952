/**
 * SimCluster: a simulated loudspeaker cluster (pole, 4G receiver, amplifier, horns) with fault knobs. The protocol
 * behaviour is in cluster-core.ts; this file is how tests and the fleet runner break things. Every knob that changes
 * a condition the protocol names as an event publishes that event (or buffers it while offline).
 */
import { ClusterCore, type SimClusterOptions } from './cluster-core.ts';
import type { OutputFault, Playing } from './device-state.ts';
import type { NetworkOptions } from './link.ts';
import type { Cancel } from './scheduler.ts';

export interface LinkDownOptions {
  /** 'drop' (default): connection lost at once. 'blackhole': socket kept, nothing passes; see Session.linkDown. */
  mode?: 'drop' | 'blackhole';
}

export interface LinkFlapOptions {
  /** Time the link stays down per flap. Default 5000. */
  downMs?: number;
  /** Time it stays up between flaps. Default 20000. */
  upMs?: number;
  /** ± fraction applied to both. Default 0.5. */
  jitter?: number;
}

export class SimCluster extends ClusterCore {
  private flapTimer: Cancel | null = null;

  constructor(opts: SimClusterOptions) {
    super(opts);
    this.on('stopped', () => this.linkFlap(null));
  }

  /** Mains supply lost (true) or back (false). On loss the device runs from its battery, which drains. */
  mainsLoss(on = true): void {
    this.raise(this.state.setMains(!on));
    this.rescheduleBattery();
  }

  /** The over/under-voltage protection relay opens: the load is cut off mains and runs on backup. */
  relayTrip(): void {
    this.raise(this.state.setRelay(true));
    this.rescheduleBattery();
  }

  relayReset(): void {
    this.raise(this.state.setRelay(false));
    this.rescheduleBattery();
  }

  /** A horn line goes open (cut cable), short, or overload on output `index`. */
  outputFault(index: number, fault: OutputFault): void {
    this.raise(this.state.setOutputFault(index, fault));
  }

  outputRestore(index: number): void {
    this.raise(this.state.setOutputFault(index, 'ok'));
  }

  /** Pin the amplifier at `tempC`; at or above 75 °C that is an overheat event. */
  overheat(tempC = 85): void {
    this.raise(this.state.setOverheat(tempC));
  }

  /** Release the pinned temperature; the amplifier is back near its normal range (overheat_cleared if it was hot). */
  coolDown(): void {
    this.raise(this.state.setOverheat(null));
  }

  /** What the amplifier is playing (warms it up and shows in telemetry); null for silence. */
  play(p: Playing): void {
    this.raise(this.state.setPlaying(p));
  }

  /**
   * Slow or lossy network on both directions (or per direction via up/down); null for a clean link. With `merge`
   * only the given fields change, e.g. adding loss to an existing delay.
   */
  network(opts: NetworkOptions | null, merge = false): void {
    this.session.link.configure(opts, merge);
  }

  /** The impairment currently applied, per direction. */
  get networkImpairment() {
    return { up: this.session.link.impairment('up'), down: this.session.link.impairment('down') };
  }

  /** Lose the radio link, for `ms` if given (else until linkUp). Events raised meanwhile are buffered. */
  linkDown(ms?: number, opts: LinkDownOptions = {}): void {
    this.session.linkDown(ms, opts.mode ?? 'drop');
  }

  linkUp(): void {
    this.session.linkUp();
  }

  /** Repeatedly lose and regain the link until called with null (or the cluster stops). */
  linkFlap(opts: LinkFlapOptions | null): void {
    this.flapTimer?.();
    this.flapTimer = null;
    if (!opts) return;
    const j = opts.jitter ?? 0.5;
    const rnd = this.o.random ?? Math.random;
    const vary = (ms: number) => ms * (1 - j + 2 * j * rnd());
    const cycle = () => {
      if (!this.running) return;
      const down = vary(opts.downMs ?? 5000);
      this.linkDown(down);
      this.flapTimer = this.sched.after(down + vary(opts.upMs ?? 20_000), cycle);
    };
    this.flapTimer = this.sched.after(vary(opts.upMs ?? 20_000) / 2, cycle);
  }

  /**
   * Drop the connection and come back after a uniform random delay in [0, maxDelayMs] — applied to many clusters at
   * once this is the thundering herd a broker restart or cell-tower handover causes.
   */
  reconnectStorm(opts: { maxDelayMs?: number } = {}): void {
    this.session.drop('reconnect storm', (this.o.random ?? Math.random)() * (opts.maxDelayMs ?? 2000));
  }

  /** The next content download that completes gets one byte flipped, so its sha256 verification fails. */
  corruptNextDownload(): void {
    this.playback.content.corruptNextDownload();
  }

  /** Every content download (or assumed fetch) from now on starts `ms` later: a slow or congested link. 0 clears. */
  contentFetchDelay(ms: number): void {
    this.playback.content.setFetchDelay(ms);
  }

  /** Run a time-sync burst now instead of waiting for the interval. */
  syncTimeNow(): void {
    if (this.online) this.timeSyncNow();
  }

  /**
   * The time the device clock reads stepped (an NTP or RTC step of the wall clock, or a test moving the fake true
   * time its DeviceClock reads): the player's wake-up timer, a plain setTimeout computed from the old reading, is
   * re-armed from the clock as it reads now — what a receiver does on settimeofday. The measured offset is kept, so
   * this models a step of the time source the server and the device share; a step of the device clock alone is
   * `clock.setSkew()` followed by `syncTimeNow()`.
   */
  clockStepped(): void {
    this.playback.onOffset();
  }
}

export type { SimClusterOptions };
