import rrule from 'rrule';
import type { Schedule } from '../../../schemas/api/recurrence.ts';
import { badRequest } from '../shared/errors.ts';
import { fromJdn, jdn, toLunar } from './lunar.ts';

// rrule ships CommonJS for Node; its named exports exist only on the default object.
const { rrulestr } = rrule;

type Day = { y: number; m: number; d: number };
const DAY_MS = 86_400_000;
const dateOf = (s: string): Day => {
  const [y, m, d] = s.split('-').map(Number);
  return { y, m, d };
};
const jdnOf = (s: string) => {
  const x = dateOf(s);
  return jdn(x.y, x.m, x.d);
};
const key = (x: Day) => `${x.y}-${String(x.m).padStart(2, '0')}-${String(x.d).padStart(2, '0')}`;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const formats = new Map<string, Intl.DateTimeFormat>();
/** The wall calendar date and minutes of an instant in a zone. */
function wallOf(ms: number, zone: string): Day & { min: number } {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })));
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(ms))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year, m: p.month, d: p.day, min: (p.hour % 24) * 60 + p.minute };
}

/** The wall calendar day of an instant in a zone. */
export function wallDay(ms: number, zone: string): Day {
  const w = wallOf(ms, zone);
  return { y: w.y, m: w.m, d: w.d };
}

/** 'YYYY-MM-DD', 'HH:mm' and the ISO weekday of an instant on the zone's wall clock. */
export function wallLabel(ms: number, zone: string): { date: string; time: string; weekday: number; day: Day } {
  const w = wallOf(ms, zone);
  const wd = new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay();
  return { date: key(w), time: `${String(Math.floor(w.min / 60)).padStart(2, '0')}:${String(w.min % 60).padStart(2, '0')}`, weekday: wd === 0 ? 7 : wd, day: { y: w.y, m: w.m, d: w.d } };
}

/** The instant at which the zone's clock shows this date and time (two passes settle any offset change). */
export function instantOf(day: Day, minutes: number, zone: string): number {
  const target = Date.UTC(day.y, day.m - 1, day.d) + minutes * 60_000;
  let t = target;
  for (let i = 0; i < 2; i++) {
    const w = wallOf(t, zone);
    t += target - (Date.UTC(w.y, w.m - 1, w.d) + w.min * 60_000);
  }
  return t;
}

/** A recurrence checked before it is stored: a clear 400 naming the field rather than a rule that never fires. */
export function checkSchedule(s: Schedule, field = 'body/schedule'): void {
  if (s.from && s.until && s.until < s.from) throw badRequest('the schedule ends before it starts', `${field}/until`);
  const r = s.recurrence;
  if (r.kind === 'rrule') {
    if (!s.from) throw badRequest('an RRULE needs a first day (from): its intervals count from it', `${field}/from`);
    if (/DTSTART|RDATE|EXDATE/i.test(r.rule)) throw badRequest('give the RRULE alone: the first day is "from", skipped days are exceptions', `${field}/recurrence/rule`);
    try {
      rrulestr(r.rule.replace(/^RRULE:/i, ''), { dtstart: new Date(Date.UTC(2000, 0, 1)) });
    } catch (err) {
      throw badRequest(`not an RFC 5545 RRULE: ${(err as Error).message}`, `${field}/recurrence/rule`);
    }
  }
  if (r.kind === 'once' && ((s.from && r.date < s.from) || (s.until && r.date > s.until))) throw badRequest('the date is outside from/until', `${field}/recurrence/date`);
}

/**
 * Every instant (epoch ms, sorted) in [fromMs, toMs) at which a schedule airs: its recurrence on the area's wall
 * calendar at its time of day, within from/until, less the skipped dates, plus the moved ones. Pure: the same window
 * always gives the same instants, which is what lets the planner materialise idempotently.
 */
export function occurrences(s: Schedule, fromMs: number, toMs: number, zone: string): number[] {
  if (toMs <= fromMs) return [];
  const first = wallOf(fromMs - DAY_MS, zone);
  const last = wallOf(toMs + DAY_MS, zone);
  let lo = jdn(first.y, first.m, first.d);
  let hi = jdn(last.y, last.m, last.d);
  if (s.from) lo = Math.max(lo, jdnOf(s.from));
  if (s.until) hi = Math.min(hi, jdnOf(s.until));
  const skipped = new Map((s.exceptions ?? []).map((e) => [e.date, e]));
  const minutes = minutesOf(s.time);
  const matches = matcher(s, lo, hi);
  const out = new Set<number>();
  for (let j = lo; j <= hi; j++) {
    const day = fromJdn(j);
    if (!matches(day, j)) continue;
    const ex = skipped.get(key(day));
    if (ex) {
      if (ex.moveTo) out.add(instantOf(dateOf(ex.moveTo.date), minutesOf(ex.moveTo.time), zone));
      continue;
    }
    out.add(instantOf(day, minutes, zone));
  }
  return [...out].filter((t) => t >= fromMs && t < toMs).sort((a, b) => a - b);
}

/** Whether a calendar day (with its Julian day number) is one the recurrence names. */
function matcher(s: Schedule, lo: number, hi: number): (day: Day, j: number) => boolean {
  const r = s.recurrence;
  switch (r.kind) {
    case 'once':
      return (day) => key(day) === r.date;
    case 'daily':
      return () => true;
    case 'weekly': {
      const set = new Set(r.weekdays);
      return (_day, j) => set.has((j % 7) + 1); // a Julian day number mod 7 is 0 on a Monday
    }
    case 'monthly': {
      const set = new Set(r.days);
      return (day) => set.has(day.d);
    }
    case 'lunar': {
      const days = new Set(r.days);
      const months = r.months ? new Set(r.months) : null;
      return (day) => {
        const l = toLunar(day.y, day.m, day.d);
        return days.has(l.day) && (!months || months.has(l.month)) && (r.leapMonths !== false || !l.leap);
      };
    }
    case 'rrule': {
      // rrule works in UTC; the wall calendar is fed to it as if it were UTC ("floating" dates), then read back.
      const f = dateOf(s.from!);
      const rule = rrulestr(r.rule.replace(/^RRULE:/i, ''), { dtstart: new Date(Date.UTC(f.y, f.m - 1, f.d)) });
      const a = fromJdn(lo);
      const b = fromJdn(hi);
      const days = new Set(rule.between(new Date(Date.UTC(a.y, a.m - 1, a.d)), new Date(Date.UTC(b.y, b.m - 1, b.d, 23, 59)), true).map((d) => d.toISOString().slice(0, 10)));
      return (day) => days.has(key(day));
    }
  }
}
