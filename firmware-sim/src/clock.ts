/**
 * The device's own wall clock, modelled as a function of a true time source so tests can compare the device's
 * estimate of server time with the truth. Real receivers boot from an RTC that can be seconds off and whose
 * crystal drifts by tens of ppm; both are what time sync exists to correct.
 */
export type TimeSource = () => number;

export interface DeviceClockOptions {
  /** True time, ms since epoch. Defaults to Date.now; tests may pass a higher-resolution or fake source. */
  trueNow?: TimeSource;
  /** Constant error of the device clock (device − true), ms. */
  skewMs?: number;
  /** Rate error in parts per million: +50 means the device clock gains 50 µs every true second. */
  driftPpm?: number;
}

export class DeviceClock {
  readonly trueNow: TimeSource;
  private skewMs: number;
  private driftPpm: number;
  /** True instant at which the current skew was exact; drift accumulates from here. */
  private anchor: number;

  constructor(opts: DeviceClockOptions = {}) {
    this.trueNow = opts.trueNow ?? Date.now;
    this.skewMs = opts.skewMs ?? 0;
    this.driftPpm = opts.driftPpm ?? 0;
    this.anchor = this.trueNow();
  }

  /** Device time for a given true instant (fractional ms). */
  at(trueMs: number): number {
    return trueMs + this.skewMs + ((trueMs - this.anchor) * this.driftPpm) / 1e6;
  }

  /** Current device time, fractional ms since epoch as the device believes it. */
  now(): number {
    return this.at(this.trueNow());
  }

  /** Current device time rounded to the integer ms the payload `ts` fields carry. */
  nowMs(): number {
    return Math.round(this.now());
  }

  /** device − true right now, ms. The ideal `clockOffsetMs` against a server on true time is its negation. */
  errorMs(): number {
    const t = this.trueNow();
    return this.at(t) - t;
  }

  /** Step the clock (e.g. an RTC reset). Drift keeps accumulating from this moment. */
  setSkew(skewMs: number): void {
    this.skewMs = skewMs;
    this.anchor = this.trueNow();
  }

  /** Change the rate error, keeping the current reading continuous. */
  setDrift(driftPpm: number): void {
    const err = this.errorMs();
    this.driftPpm = driftPpm;
    this.skewMs = err;
    this.anchor = this.trueNow();
  }

  get skew(): number {
    return this.skewMs;
  }

  get drift(): number {
    return this.driftPpm;
  }
}
