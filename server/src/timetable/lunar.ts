/**
 * The Vietnamese lunisolar calendar (âm lịch), computed rather than tabulated. Months begin on the day (in Vietnam's
 * time, UTC+7) that holds the new moon; month 11 is the one holding the winter solstice; in a year of 13 months the
 * first month after month 11 without a major solar term (trung khí) is the leap month. The astronomy is the
 * low-precision series of Jean Meeus ("Astronomical Algorithms", 1998: new moons ch. 49, the Sun's longitude ch. 25),
 * as used in Hồ Ngọc Đức's published work on the Vietnamese calendar. The zone is fixed at +7: a library made for
 * China (UTC+8) differs on days whose new moon falls between 16:00 and 17:00 UTC — Tết 1985, 2007, 2030.
 */

/** Vietnam's calendar zone: the North adopted UTC+7 for the calendar in 1968, the whole country since 1975. */
const ZONE_H = 7;
const RAD = Math.PI / 180;
/** The mean synodic month, days. */
const SYNODIC = 29.530588853;
/** Julian day number of the mean new moon k = 0 (6 January 1900), the origin of k. */
const K0 = 2415021.076998695;

export interface LunarDate {
  day: number;
  month: number;
  /** the lunar year, whose month 1 starts at Tết (so 10 January 2026 is still in lunar year 2025) */
  year: number;
  leap: boolean;
}

/** Julian day number of a Gregorian date. */
export function jdn(y: number, m: number, d: number): number {
  const a = Math.floor((14 - m) / 12);
  const yy = y + 4800 - a;
  const mm = m + 12 * a - 3;
  return d + Math.floor((153 * mm + 2) / 5) + 365 * yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) - 32045;
}

/** The Gregorian date of a Julian day number. */
export function fromJdn(j: number): { y: number; m: number; d: number } {
  const a = j + 32044;
  const b = Math.floor((4 * a + 3) / 146097);
  const c = a - Math.floor((146097 * b) / 4);
  const d = Math.floor((4 * c + 3) / 1461);
  const e = c - Math.floor((1461 * d) / 4);
  const m = Math.floor((5 * e + 2) / 153);
  return { d: e - Math.floor((153 * m + 2) / 5) + 1, m: m + 3 - 12 * Math.floor(m / 10), y: 100 * b + d - 4800 + Math.floor(m / 10) };
}

/** The instant (Julian day, UT) of the k-th new moon after 6 January 1900, to a few minutes. */
function newMoon(k: number): number {
  const T = k / 1236.85;
  const T2 = T * T;
  const T3 = T2 * T;
  const sin = (deg: number) => Math.sin(deg * RAD);
  const mean = 2415020.75933 + 29.53058868 * k + 0.0001178 * T2 - 0.000000155 * T3 + 0.00033 * sin(166.56 + 132.87 * T - 0.009173 * T2);
  const M = 359.2242 + 29.10535608 * k - 0.0000333 * T2 - 0.00000347 * T3; // the Sun's mean anomaly
  const Mp = 306.0253 + 385.81691806 * k + 0.0107306 * T2 + 0.00001236 * T3; // the Moon's
  const F = 21.2964 + 390.67050646 * k - 0.0016528 * T2 - 0.00000239 * T3; // the Moon's argument of latitude
  const correction =
    (0.1734 - 0.000393 * T) * sin(M) + 0.0021 * sin(2 * M) - 0.4068 * sin(Mp) + 0.0161 * sin(2 * Mp) - 0.0004 * sin(3 * Mp) +
    0.0104 * sin(2 * F) - 0.0051 * sin(M + Mp) - 0.0074 * sin(M - Mp) + 0.0004 * sin(2 * F + M) - 0.0004 * sin(2 * F - M) -
    0.0006 * sin(2 * F + Mp) + 0.001 * sin(2 * F - Mp) + 0.0005 * sin(M + 2 * Mp);
  // Terrestrial minus universal time, days (Meeus's fit; negligible next to a day but not next to an hour).
  const deltaT = T < -11 ? 0.001 + 0.000839 * T + 0.0002261 * T2 - 0.00000845 * T3 - 0.000000081 * T * T3 : -0.000278 + 0.000265 * T + 0.000262 * T2;
  return mean + correction - deltaT;
}

/** The day (Julian day number, in Vietnam's time) that holds the k-th new moon. */
const newMoonDay = (k: number) => Math.floor(newMoon(k) + 0.5 + ZONE_H / 24);

/** Which 30° sector of the ecliptic the Sun is in at the start of a day in Vietnam (0: 0°–30°, … 9: 270°, the solstice). */
function sunSector(day: number): number {
  const T = (day - 0.5 - ZONE_H / 24 - 2451545.0) / 36525;
  const T2 = T * T;
  const M = 357.5291 + 35999.0503 * T - 0.0001559 * T2 - 0.00000048 * T * T2;
  const L0 = 280.46645 + 36000.76983 * T + 0.0003032 * T2;
  const C = (1.9146 - 0.004817 * T - 0.000014 * T2) * Math.sin(M * RAD) + (0.019993 - 0.000101 * T) * Math.sin(2 * M * RAD) + 0.00029 * Math.sin(3 * M * RAD);
  const omega = 125.04 - 1934.136 * T;
  const apparent = L0 + C - 0.00569 - 0.00478 * Math.sin(omega * RAD);
  return Math.floor((((apparent % 360) + 360) % 360) / 30);
}

/** The first day of lunar month 11 of the year that ends in Gregorian year `y` (the month of the winter solstice). */
function month11(y: number): number {
  const k = Math.floor((jdn(y, 12, 31) - K0) / SYNODIC);
  const day = newMoonDay(k);
  return sunSector(day) >= 9 ? newMoonDay(k - 1) : day;
}

/** In a 13-month year starting at month 11 on `a11`: how many months after it the leap month falls. */
function leapOffset(a11: number): number {
  const k = Math.floor((a11 - K0) / SYNODIC + 0.5);
  let i = 1;
  let sector = sunSector(newMoonDay(k + i));
  let last: number;
  do {
    last = sector;
    i++;
    sector = sunSector(newMoonDay(k + i));
  } while (sector !== last && i < 14);
  return i - 1;
}

/** The lunar date of a Gregorian date (the date as lived in Vietnam). */
export function toLunar(y: number, m: number, d: number): LunarDate {
  const day = jdn(y, m, d);
  // The mean lunation count can be one ahead of the true new moons (which run up to ~14 h off the mean): step back
  // until the month found starts on or before the day.
  let k = Math.floor((day - K0) / SYNODIC) + 1;
  let start = newMoonDay(k);
  while (start > day) start = newMoonDay(--k);
  let a11 = month11(y);
  let b11 = a11;
  let year: number;
  if (a11 >= start) {
    year = y;
    a11 = month11(y - 1);
  } else {
    year = y + 1;
    b11 = month11(y + 1);
  }
  const lunarDay = day - start + 1;
  const diff = Math.floor((start - a11) / 29);
  let month = diff + 11;
  let leap = false;
  if (b11 - a11 > 365) {
    const offset = leapOffset(a11);
    if (diff >= offset) {
      month = diff + 10;
      leap = diff === offset;
    }
  }
  if (month > 12) month -= 12;
  if (month >= 11 && diff < 4) year -= 1;
  return { day: lunarDay, month, year, leap };
}

/** The Gregorian date of a lunar date; throws when that year has no such leap month or the month no such day. */
export function fromLunar(l: LunarDate): { y: number; m: number; d: number } {
  if (!Number.isInteger(l.month) || l.month < 1 || l.month > 12 || !Number.isInteger(l.day) || l.day < 1 || l.day > 30) throw new RangeError(`no lunar date ${l.day}/${l.month}`);
  let a11: number;
  let b11: number;
  if (l.month < 11) {
    a11 = month11(l.year - 1);
    b11 = month11(l.year);
  } else {
    a11 = month11(l.year);
    b11 = month11(l.year + 1);
  }
  const k = Math.floor(0.5 + (a11 - K0) / SYNODIC);
  let off = l.month - 11;
  if (off < 0) off += 12;
  if (b11 - a11 > 365) {
    const leapAt = leapOffset(a11);
    let leapMonth = leapAt - 2;
    if (leapMonth < 0) leapMonth += 12;
    if (l.leap && l.month !== leapMonth) throw new RangeError(`lunar year ${l.year} has no leap month ${l.month} (its leap month is ${leapMonth})`);
    if (l.leap || off >= leapAt) off += 1;
  } else if (l.leap) throw new RangeError(`lunar year ${l.year} has no leap month`);
  const start = newMoonDay(k + off);
  const length = newMoonDay(k + off + 1) - start;
  if (l.day > length) throw new RangeError(`lunar month ${l.month}${l.leap ? ' (leap)' : ''} of ${l.year} has ${length} days`);
  return fromJdn(start + l.day - 1);
}

/** The leap month of a lunar year (1–12), or null when the year has twelve months. */
export function leapMonthOf(year: number): number | null {
  for (let month = 1; month <= 12; month++) {
    try {
      fromLunar({ day: 1, month, year, leap: true });
      return month;
    } catch {
      // not this one
    }
  }
  return null;
}
