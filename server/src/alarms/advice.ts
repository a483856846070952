import type { AlarmSeverity } from '../../../schemas/api/alarms.ts';
import type { Telemetry } from '../../../schemas/device-protocol/telemetry.ts';

/** The alarm type of a cluster that stopped talking to the server (the other types are the fault codes). */
export const OFFLINE = 'offline';

/** See ALARM_SEVERITIES: what stops a cluster airing ranks above what only needs a visit. */
export function severityOf(type: string): AlarmSeverity {
  if (type === OFFLINE || type === 'battery-low') return 'critical';
  if (type === 'mains-lost' || /^output-\d+-overload$/.test(type)) return 'minor';
  return 'major';
}

/** Types whose advice says how long the battery lasts. */
export const ON_BATTERY_TYPES = new Set(['mains-lost', 'relay-tripped', 'battery-low']);

/**
 * When a fault was first seen, in server time: the report's (or event's) device time corrected by the measured clock
 * offset. Falls back to when the server received it if the device has not synced its clock yet or its corrected time
 * is implausible (later than reception, or more than a day earlier — a buffered event older than that is history).
 */
export function seenAt(t: Telemetry | null | undefined, receivedAt: number): number {
  if (!t || t.clockOffsetMs === null || t.clockOffsetMs === undefined) return receivedAt;
  const at = Math.round(t.ts + t.clockOffsetMs);
  return at <= receivedAt && at >= receivedAt - 86_400_000 ? at : receivedAt;
}

export interface BatteryPoint {
  /** ms since epoch */
  at: number;
  onBattery: boolean;
  pct: number;
}

/**
 * A lead-acid gauge reads a percent or two off under a changing load, so the rate is a least-squares slope over at
 * least this stretch of the current discharge, and needs a clear drop; shorter or flatter, no estimate is given.
 */
export const MIN_DISCHARGE_SPAN_MS = 10 * 60_000;
const MIN_DROP_PCT = 1;
/** Beyond this a few minutes of measurement say little; the console then gives no figure rather than a wild one. */
const MAX_HOURS = 72;

/**
 * Hours until the battery is empty at the rate it is discharging now, measured over the current on-battery stretch
 * of the history (oldest first). Null when it cannot be measured: not on battery, too short or no clear drop.
 * Nothing nominal is assumed: a cluster reports neither its battery capacity nor its load.
 */
export function batteryHoursLeft(points: BatteryPoint[]): number | null {
  let start = points.length;
  while (start > 0 && points[start - 1].onBattery) start--;
  const run = points.slice(start);
  if (run.length < 3) return null;
  const first = run[0];
  const last = run[run.length - 1];
  if (last.at - first.at < MIN_DISCHARGE_SPAN_MS || first.pct - last.pct < MIN_DROP_PCT) return null;
  const n = run.length;
  const mx = run.reduce((s, p) => s + (p.at - first.at), 0) / n;
  const my = run.reduce((s, p) => s + p.pct, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of run) {
    const dx = p.at - first.at - mx;
    num += dx * (p.pct - my);
    den += dx * dx;
  }
  const pctPerMs = den ? num / den : 0;
  if (pctPerMs >= 0) return null;
  const hours = last.pct / -pctPerMs / 3_600_000;
  return hours <= MAX_HOURS ? Math.round(hours * 10) / 10 : null;
}
