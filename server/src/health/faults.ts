import type { Telemetry } from '../../../schemas/device-protocol/telemetry.ts';

/** Amplifiers in roadside cabinets throttle around 80 °C; 75 °C is where a technician wants to know. */
export const OVERHEAT_C = 75;
export const BATTERY_LOW_PCT = 20;

/** Current faults derived from one telemetry report, as stable strings the console can translate. */
export function faultsOf(t: Telemetry): string[] {
  const out: string[] = [];
  if (!t.mains.present) out.push('mains-lost');
  if (t.relayTripped) out.push('relay-tripped');
  if (t.amp.temperatureC >= OVERHEAT_C) out.push('overheat');
  if (t.backup.active && t.backup.batteryPct < BATTERY_LOW_PCT) out.push('battery-low');
  for (const o of t.outputs) if (o.state !== 'ok' && o.state !== 'off') out.push(`output-${o.index}-${o.state}`);
  return out;
}

export const faultyOutputCount = (t: Telemetry): number =>
  t.outputs.filter((o) => o.state !== 'ok' && o.state !== 'off').length;
