import type { DeviceEvent } from '../../../schemas/device-protocol/events.ts';
import type { Telemetry } from '../../../schemas/device-protocol/telemetry.ts';

/**
 * What an event says about the cluster's state, applied to its latest telemetry so the console shows a mains loss
 * or a speaker fault when it happens rather than at the next report. Returns null when the event changes nothing
 * or is older than the report it would amend.
 */
export function applyEvent(t: Telemetry, e: DeviceEvent): Telemetry | null {
  if (e.ts < t.ts) return null;
  const n = structuredClone(t);
  switch (e.type) {
    case 'mains_lost':
      n.mains = { present: false, voltageV: e.voltageV ?? null };
      n.backup.active = true;
      break;
    case 'mains_restored':
      n.mains = { present: true, voltageV: e.voltageV ?? t.mains.voltageV };
      n.backup.active = false;
      break;
    case 'relay_tripped':
      n.relayTripped = true;
      break;
    case 'relay_reset':
      n.relayTripped = false;
      break;
    case 'output_fault':
    case 'output_restored': {
      if (!e.output) return null;
      const o = n.outputs.find((x) => x.index === e.output!.index);
      if (o) o.state = e.output.state;
      else n.outputs.push({ ...e.output });
      break;
    }
    case 'overheat':
    case 'overheat_cleared':
      if (e.temperatureC === undefined) return null;
      n.amp.temperatureC = e.temperatureC;
      break;
    case 'battery_low':
      if (e.batteryPct === undefined) return null;
      n.backup.batteryPct = e.batteryPct;
      break;
    default:
      return null;
  }
  n.ts = e.ts;
  return n;
}
