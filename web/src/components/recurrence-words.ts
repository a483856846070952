import type { Dict } from '../i18n/vi.ts';
import type { Recurrence, Schedule } from '../../../schemas/api/recurrence.ts';
import type { Occurrence } from '../../../schemas/api/programmes.ts';

/**
 * A programme's schedule in the words an officer says it: "Thứ 2 đến thứ 6 lúc 17:00", "Mùng 1 và rằm hằng tháng
 * (âm lịch) lúc 06:00". Pure and given its dictionary (no `t`, no localStorage), so the words are tested in Node and
 * the same function serves both languages.
 */
type K = keyof Dict;
const say = (d: Dict, k: K, v: Record<string, string | number> = {}) => d[k].replace(/\{(\w+)\}/g, (_, x) => String(v[x] ?? ''));
const pad = (n: number) => String(n).padStart(2, '0');
const capital = (s: string) => s.charAt(0).toLocaleUpperCase('vi') + s.slice(1);

/** 'YYYY-MM-DD' → 'dd/MM/yyyy', the only way a date is written in the console. */
export const dmy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** "a, b và c" / "a, b and c". */
export function joinWords(d: Dict, parts: string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return parts.slice(0, -1).join(', ') + say(d, 'prog.w_and') + parts[parts.length - 1];
}

/** ISO weekday 1..7 → "thứ 2" … "Chủ nhật" (as written in a sentence). */
export const weekdayName = (d: Dict, n: number) => say(d, `prog.wd${n}` as K);
/** ISO weekday 1..7 → "T2" … "CN". */
export const weekdayShort = (d: Dict, n: number) => say(d, `prog.wds${n}` as K);

/** Sorted days split into runs of consecutive ones: three or more read as a range ("thứ 2 đến thứ 6"). */
function runs(days: number[], name: (n: number) => string, d: Dict): string[] {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (j - i >= 2) out.push(say(d, 'prog.w_range', { a: name(sorted[i]), b: name(sorted[j]) }));
    else for (let k = i; k <= j; k++) out.push(name(sorted[k]));
    i = j + 1;
  }
  return out;
}

/** A lunar day as said: "mùng 1" … "mùng 10", "rằm" (15), "ngày 20". */
export function lunarDayName(d: Dict, n: number): string {
  if (n === 15) return say(d, 'prog.lunarRam');
  return say(d, n <= 10 ? 'prog.lunarMung' : 'prog.lunarDay', { n });
}

function recurrenceText(r: Recurrence, d: Dict): string {
  switch (r.kind) {
    case 'once':
      return say(d, 'prog.w_once', { date: dmy(r.date) });
    case 'daily':
      return say(d, 'prog.w_daily');
    case 'weekly':
      if (new Set(r.weekdays).size === 7) return say(d, 'prog.w_daily');
      return joinWords(d, runs(r.weekdays, (n) => weekdayName(d, n), d));
    case 'monthly':
      return say(d, 'prog.w_monthly', { days: joinWords(d, [...r.days].sort((a, b) => a - b).map(String)) });
    case 'lunar': {
      const days = joinWords(d, [...r.days].sort((a, b) => a - b).map((n) => lunarDayName(d, n)));
      return r.months?.length
        ? say(d, 'prog.w_lunarMonths', { days, months: joinWords(d, [...r.months].sort((a, b) => a - b).map((m) => say(d, 'prog.lunarMonth', { name: say(d, `prog.lm${m}` as K) }))) })
        : say(d, 'prog.w_lunar', { days });
    }
    case 'rrule':
      return say(d, 'prog.w_rrule', { rule: r.rule });
  }
}

/** "Hằng ngày lúc 05:30". */
export function scheduleWords(s: Pick<Schedule, 'recurrence' | 'time'>, d: Dict): string {
  const r = s.recurrence;
  const noLeap = r.kind === 'lunar' && r.leapMonths === false ? say(d, 'prog.w_noLeap') : '';
  return capital(say(d, 'prog.w_at', { what: recurrenceText(r, d), time: s.time })) + noLeap;
}

/** "Từ 01/12/2026 đến 31/12/2026"; '' when the schedule runs from now on without end. */
export function rangeWords(s: Pick<Schedule, 'from' | 'until'>, d: Dict): string {
  if (s.from && s.until) return say(d, 'prog.w_fromTo', { from: dmy(s.from), to: dmy(s.until) });
  if (s.from) return say(d, 'prog.w_from', { from: dmy(s.from) });
  if (s.until) return say(d, 'prog.w_until', { to: dmy(s.until) });
  return '';
}

/** "27/10 ÂL", "15/10 ÂL (rằm)", "01/04 nhuận ÂL (mùng 1)". */
export function lunarWords(l: Occurrence['lunar'], d: Dict): string {
  const base = say(d, l.leap ? 'prog.lunarLeap' : 'prog.lunarDate', { d: pad(l.day), m: pad(l.month) });
  const named = l.day === 1 ? say(d, 'prog.lunarFirst') : l.day === 15 ? say(d, 'prog.lunarRam') : '';
  return named ? `${base} (${named})` : base;
}

/** One airing as the preview lists it: "T2 07/12/2026 · 05:30 — 27/10 ÂL". */
export function occurrenceWords(o: Pick<Occurrence, 'date' | 'time' | 'weekday' | 'lunar'>, d: Dict): string {
  return `${weekdayShort(d, o.weekday)} ${dmy(o.date)} · ${o.time} — ${lunarWords(o.lunar, d)}`;
}

/** "2 phút 30 giây", "1 giờ 5 phút": how long a programme airs, in the units people count in. */
export function durationWords(ms: number, d: Dict): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const parts = [h && say(d, 'prog.hours', { n: h }), m && say(d, 'prog.minutes', { n: m }), (sec || s === 0) && !h && say(d, 'prog.seconds', { n: sec })];
  return parts.filter(Boolean).join(' ');
}
