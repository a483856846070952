import { instantOf, wallDay } from '../timetable/recurrence.ts';

/**
 * Quiet hours (giờ không phát): a daily local-time window in which only emergencies air, e.g. "21:00-05:00".
 * Communes set them by the clock on the wall, so they are read in the area's time zone, not UTC.
 */
export interface QuietHours {
  /** true when the instant falls inside the window */
  covers(ms: number): boolean;
  /** the windows that overlap [fromMs, toMs), as instants */
  intervals(fromMs: number, toMs: number): { from: number; to: number }[];
  /** the first instant at or after `ms` from which `durationMs` of airing touches no quiet hours */
  nextAllowed(ms: number, durationMs: number): number;
  label: string;
  spec: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_MS = 86_400_000;

export function parseQuietHours(spec: string, timeZone: string): QuietHours | null {
  if (!spec) return null;
  const [from, to] = spec.split('-');
  const a = HHMM.exec(from ?? '');
  const b = HHMM.exec(to ?? '');
  if (!a || !b) throw new Error(`quiet hours "${spec}" must look like 21:00-05:00`);
  const start = +a[1] * 60 + +a[2];
  const end = +b[1] * 60 + +b[2];
  if (start === end) return null; // an empty window
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const minuteOfDay = (ms: number) => {
    const [h, m] = fmt.format(ms).split(':').map(Number);
    return h * 60 + m;
  };
  const intervals = (fromMs: number, toMs: number) => {
    const out: { from: number; to: number }[] = [];
    // From the day before (a window that began yesterday evening) to the last day touched.
    for (let t = fromMs - DAY_MS; t < toMs + DAY_MS; t += DAY_MS) {
      const day = wallDay(t, timeZone);
      const s = instantOf(day, start, timeZone);
      const e = start < end ? instantOf(day, end, timeZone) : instantOf(day, end + 1440, timeZone);
      if (s < toMs && e > fromMs && !out.some((x) => x.from === s)) out.push({ from: s, to: e });
    }
    return out.sort((x, y) => x.from - y.from);
  };
  return {
    label: `${from}–${to} (${timeZone})`,
    spec,
    covers(ms) {
      const t = minuteOfDay(ms);
      return start <= end ? t >= start && t < end : t >= start || t < end;
    },
    intervals,
    nextAllowed(ms, durationMs) {
      let t = ms;
      for (let i = 0; i < 4; i++) {
        const hit = intervals(t, t + Math.max(1, durationMs));
        if (hit.length === 0) return t;
        t = hit[hit.length - 1].to;
      }
      return t;
    },
  };
}
