/**
 * The physical side of a loudspeaker cluster: mains input with its protection relay, the DC backup battery, the
 * amplifier's temperature and its output channels. Quantities are integrated lazily from elapsed true time, so a
 * fleet of idle devices costs nothing between telemetry reports.
 */
import type { DeviceEvent, OutputState, Telemetry } from '../../schemas/device-protocol/index.ts';
import { between, round1 } from './rng.ts';

export type OutputFault = 'open' | 'short' | 'overload';
export interface OutputSpec {
  index: number;
  label?: string;
  ratedW?: number;
}
export type Playing = Telemetry['playing'];
/** An event before the device stamps it with an id and time. */
export type StateEvent = Omit<DeviceEvent, 'id' | 'ts'>;

export interface PhysicsOptions {
  /** Battery drain while on backup, percent per minute. A 12 V 7 Ah pack behind a 4G receiver lasts ~2 h. */
  batteryDrainPctPerMin?: number;
  batteryChargePctPerMin?: number;
  initialBatteryPct?: number;
}

export const BATTERY_LOW_PCT = 20;
/** Fires once the battery *reads* under BATTERY_LOW_PCT at the reported 0.1 % resolution: at 19.97 % the event and the telemetry would both say 20.0. */
const LOW_AT_PCT = BATTERY_LOW_PCT - 0.05;
const BATTERY_LOW_REARM_PCT = 25;
export const OVERHEAT_C = 75;
/** Amplifier heatsink time constant: minutes, not seconds. */
const THERMAL_TAU_MS = 120_000;

export class DeviceState {
  volume = 70;
  mainsPresent = true;
  relayTripped = false;
  playing: Playing = null;
  /** Volume of the airing on air (its own, or the emergency volume); null = the device volume. */
  airingVolume: number | null = null;
  readonly outputs: Array<{ index: number; fault: 'ok' | OutputFault; enabled: boolean }>;
  private batteryPct: number;
  private batteryLow = false;
  private tempC: number;
  private overheatC: number | null = null;
  private last: number;
  private readonly mainsNominalV: number;
  private readonly ambientC: number;
  private readonly rssiBase: number;
  private readonly drain: number;
  private readonly charge: number;

  constructor(
    outputs: readonly OutputSpec[],
    private readonly site: () => number,
    private readonly now: () => number,
    opts: PhysicsOptions = {},
  ) {
    this.outputs = outputs.map((o) => ({ index: o.index, fault: 'ok', enabled: true }));
    this.mainsNominalV = between(site, 220, 230);
    this.ambientC = between(site, 29, 35);
    this.rssiBase = between(site, -95, -65);
    this.batteryPct = opts.initialBatteryPct ?? between(site, 92, 100);
    this.drain = opts.batteryDrainPctPerMin ?? 1;
    this.charge = opts.batteryChargePctPerMin ?? 0.5;
    this.tempC = this.targetC();
    this.last = now();
  }

  get onBackup(): boolean {
    return !this.mainsPresent || this.relayTripped;
  }

  /** Bring battery and temperature up to now; returns events for thresholds crossed on the way. */
  advance(): StateEvent[] {
    const t = this.now();
    const dt = Math.max(0, t - this.last);
    this.last = t;
    const min = dt / 60_000;
    this.batteryPct = clamp(this.batteryPct + (this.onBackup ? -this.drain : this.charge) * min, 0, 100);
    this.tempC = this.targetC() + (this.tempC - this.targetC()) * Math.exp(-dt / THERMAL_TAU_MS);
    const out: StateEvent[] = [];
    if (!this.batteryLow && this.onBackup && this.batteryPct < LOW_AT_PCT) {
      this.batteryLow = true;
      out.push({ type: 'battery_low', batteryPct: round1(this.batteryPct) });
    } else if (this.batteryLow && this.batteryPct >= BATTERY_LOW_REARM_PCT) {
      this.batteryLow = false;
    }
    return out;
  }

  /** How long until battery_low should fire, so the device can wake exactly then; null if it will not. */
  msUntilBatteryLow(): number | null {
    if (!this.onBackup || this.batteryLow || this.drain <= 0) return null;
    return Math.max(0, ((this.batteryPct - LOW_AT_PCT) / this.drain) * 60_000) + 50;
  }

  setMains(present: boolean): StateEvent[] {
    const ev = this.advance();
    if (present === this.mainsPresent) return ev;
    this.mainsPresent = present;
    ev.push(present ? { type: 'mains_restored', voltageV: this.voltage() } : { type: 'mains_lost', voltageV: 0 });
    return ev;
  }

  setRelay(tripped: boolean): StateEvent[] {
    const ev = this.advance();
    if (tripped === this.relayTripped) return ev;
    this.relayTripped = tripped;
    ev.push({ type: tripped ? 'relay_tripped' : 'relay_reset', voltageV: this.voltage() });
    return ev;
  }

  setOutputFault(index: number, fault: 'ok' | OutputFault): StateEvent[] {
    const o = this.output(index);
    if (o.fault === fault) return [];
    o.fault = fault;
    return [fault === 'ok' ? { type: 'output_restored', output: { index, state: 'ok' } } : { type: 'output_fault', output: { index, state: fault } }];
  }

  setOutputEnabled(index: number, enabled: boolean): void {
    this.output(index).enabled = enabled;
  }

  hasOutput(index: number): boolean {
    return this.outputs.some((o) => o.index === index);
  }

  /** Pin the amplifier temperature (fan failure, sun on the cabinet) until cooled down. */
  setOverheat(tempC: number | null): StateEvent[] {
    const ev = this.advance();
    const was = this.overheatC !== null && this.overheatC >= OVERHEAT_C;
    this.overheatC = tempC;
    if (tempC === null) this.tempC = Math.min(this.tempC, this.targetC() + 5);
    const now = tempC !== null && tempC >= OVERHEAT_C;
    if (now && !was) ev.push({ type: 'overheat', temperatureC: round1(tempC) });
    if (!now && was) ev.push({ type: 'overheat_cleared', temperatureC: round1(this.temperature()) });
    return ev;
  }

  setPlaying(p: Playing, airingVolume: number | null = null): StateEvent[] {
    const ev = this.advance();
    this.playing = p;
    this.airingVolume = p ? airingVolume : null;
    return ev;
  }

  /** What the amplifier plays at now: the airing's volume while one has its own, else the device volume. */
  get effectiveVolume(): number {
    return this.airingVolume ?? this.volume;
  }

  setVolume(v: number): void {
    this.advance();
    this.volume = v;
  }

  temperature(): number {
    return this.overheatC ?? this.tempC;
  }

  outputState(o: { fault: 'ok' | OutputFault; enabled: boolean }): OutputState {
    return o.enabled ? o.fault : 'off';
  }

  /** The physical part of a telemetry report, with measurement noise. */
  sample(): Pick<Telemetry, 'mains' | 'backup' | 'relayTripped' | 'amp' | 'outputs' | 'volume' | 'playing' | 'network' | 'storageFreeMb'> {
    const pct = this.batteryPct;
    return {
      mains: { present: this.mainsPresent, voltageV: this.mainsPresent ? this.voltage() : 0 },
      backup: { active: this.onBackup, batteryV: round1(12 + (1.2 * pct) / 100 + (Math.random() - 0.5) * 0.04), batteryPct: round1(pct) },
      relayTripped: this.relayTripped,
      amp: { temperatureC: round1(clamp(this.temperature() + (Math.random() - 0.5) * 0.6, -40, 150)) },
      outputs: this.outputs.map((o) => ({ index: o.index, state: this.outputState(o) })),
      volume: this.effectiveVolume,
      playing: this.playing,
      network: { type: '4g', rssiDbm: Math.round(clamp(this.rssiBase + (Math.random() - 0.5) * 6, -100, -60)) },
      storageFreeMb: 3100 + Math.round(Math.random() * 20),
    };
  }

  private voltage(): number {
    return round1(this.mainsNominalV + (Math.random() - 0.5) * 4);
  }

  private targetC(): number {
    const load = this.playing ? 16 * (this.effectiveVolume / 100) : 0;
    return this.ambientC + 6 + load;
  }

  private output(index: number) {
    const o = this.outputs.find((x) => x.index === index);
    if (!o) throw new RangeError(`no output ${index}`);
    return o;
  }
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
