import { describe, expect, it } from 'vitest';
import { BATTERY_LOW_PCT, DeviceState } from '../src/device-state.ts';

describe('battery_low', () => {
  it('fires when the battery reads under the threshold, never at a reading of 20.0', () => {
    // Drain 1 %/min from 20.03 %: after 4.8 s the battery is at 19.95 %, which reads 20.0 at 0.1 % resolution.
    for (const [afterMs, fires] of [[4_800, false], [5_000, true]] as const) {
      let now = 0;
      const s = new DeviceState([{ index: 0 }], () => 0.5, () => now, { initialBatteryPct: 20.03, batteryDrainPctPerMin: 1 });
      s.setMains(false);
      now = afterMs;
      const events = s.advance();
      const low = events.find((e) => e.type === 'battery_low');
      expect(low !== undefined, `after ${afterMs} ms`).toBe(fires);
      if (low) expect((low as { batteryPct: number }).batteryPct).toBeLessThan(BATTERY_LOW_PCT);
      expect(s.sample().backup.batteryPct < BATTERY_LOW_PCT, `after ${afterMs} ms`).toBe(fires);
    }
  });

  it('wakes the device when the battery will read under the threshold', () => {
    let now = 0;
    const s = new DeviceState([{ index: 0 }], () => 0.5, () => now, { initialBatteryPct: 20.03, batteryDrainPctPerMin: 1 });
    s.setMains(false);
    now = s.msUntilBatteryLow()!;
    expect(s.advance().some((e) => e.type === 'battery_low')).toBe(true);
  });
});
