import { config } from '../config.ts';

/**
 * Times are shown and typed as wall-clock time of the station (config.timezone, Asia/Ho_Chi_Minh by default), in
 * 24 h and dd/MM/yyyy, whatever the browser's own zone or locale: an operator on a laptop set to another zone
 * still schedules "17:30" for the commune.
 */
export interface Wall {
  y: number;
  M: number;
  d: number;
  h: number;
  m: number;
  s: number;
}

const fmts = new Map<string, Intl.DateTimeFormat>();
function fmt(zone: string): Intl.DateTimeFormat {
  let f = fmts.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });
    fmts.set(zone, f);
  }
  return f;
}

/** Wall-clock fields of an instant (epoch ms) in the zone. */
export function wall(ms: number, zone = config.timezone): Wall {
  const p: Record<string, number> = {};
  for (const x of fmt(zone).formatToParts(new Date(ms))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return { y: p.year, M: p.month, d: p.day, h: p.hour % 24, m: p.minute, s: p.second };
}

/** The instant (epoch ms) at which the zone's clock shows these fields. */
export function fromWall(w: Omit<Wall, 's'> & { s?: number }, zone = config.timezone): number {
  const target = Date.UTC(w.y, w.M - 1, w.d, w.h, w.m, w.s ?? 0);
  let t = target;
  // Two passes settle the offset, also across a daylight-saving change in zones that have one.
  for (let i = 0; i < 2; i++) {
    const x = wall(t, zone);
    t += target - Date.UTC(x.y, x.M - 1, x.d, x.h, x.m, x.s);
  }
  return t;
}

export const pad = (n: number) => String(n).padStart(2, '0');
export const fmtDate = (w: Wall) => `${pad(w.d)}/${pad(w.M)}/${w.y}`;
export const fmtTime = (w: Wall, seconds = false) => `${pad(w.h)}:${pad(w.m)}${seconds ? ':' + pad(w.s) : ''}`;

/** dd/MM/yyyy HH:mm (24 h), station time. */
export function fmtDateTime(iso: string | number | null | undefined, seconds = false): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  const w = wall(ms);
  return `${fmtDate(w)} ${fmtTime(w, seconds)}`;
}

/**
 * Parses 'dd/MM/yyyy' into a date that exists; null otherwise. Day and month may have one digit, and '.' or '-'
 * may stand for '/' (a phone's number pad has no '/'), or no separator at all: 25112026.
 */
export function parseDate(s: string): { y: number; M: number; d: number } | null {
  const r = s.trim().match(/^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/) ?? s.trim().match(/^(\d{2})(\d{2})(\d{4})$/);
  if (!r) return null;
  const [d, M, y] = [Number(r[1]), Number(r[2]), Number(r[3])];
  const check = new Date(Date.UTC(y, M - 1, d));
  return check.getUTCFullYear() === y && check.getUTCMonth() === M - 1 && check.getUTCDate() === d ? { y, M, d } : null;
}

/** Parses 'HH:mm' in 24 h (also 'H:mm', '17h30' as often written in Vietnam, '17.30' and '1730'); null otherwise. */
export function parseTime(s: string): { h: number; m: number } | null {
  const r = s.trim().match(/^(\d{1,2})[:hH.]?(\d{2})$/);
  if (!r) return null;
  const [h, m] = [Number(r[1]), Number(r[2])];
  return h < 24 && m < 60 ? { h, m } : null;
}

/**
 * "HH:mm dd/MM", station time: when something happened today or lately ("mất kết nối từ 14:05 03/12"); with
 * `seconds`, "HH:mm:ss dd/MM", for events that come seconds apart (a relay's switches).
 */
export function fmtTimeDay(iso: string | number | null | undefined, seconds = false): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  const w = wall(ms);
  return `${fmtTime(w, seconds)} ${pad(w.d)}/${pad(w.M)}`;
}
