import { describe, expect, it } from 'vitest';
import { fromJdn, fromLunar, jdn, leapMonthOf, toLunar } from '../server/src/timetable/lunar.ts';

/**
 * Where the figures come from: the dates of Tết Nguyên Đán are public record in Vietnam (the government's holiday
 * notices each year; the lunar calendars printed by the Nhà xuất bản Văn hóa – Thông tin); the leap months and the
 * days where Vietnam and China differ (1985, 2007, 2030 — China's dates given beside them) are the ones Hồ Ngọc Đức
 * lists in "Âm lịch Việt Nam" (informatik.uni-leipzig.de/~duc/amlich/) and issue 11 quotes. None is computed by the
 * code under test.
 */
const TET: [number, string][] = [
  [1968, '1968-01-29'], // the North on UTC+7 from this year: 29 January (the South, still on +8, kept the 30th)
  [1985, '1985-01-21'], // China: 20 February — a whole month apart
  [2007, '2007-02-17'], // China: 18 February
  [2020, '2020-01-25'],
  [2021, '2021-02-12'],
  [2022, '2022-02-01'],
  [2023, '2023-01-22'],
  [2024, '2024-02-10'],
  [2025, '2025-01-29'],
  [2026, '2026-02-17'],
  [2027, '2027-02-06'],
  [2028, '2028-01-26'],
  [2029, '2029-02-13'],
  [2030, '2030-02-02'], // China: 3 February
];
const iso = (d: { y: number; m: number; d: number }) => `${d.y}-${String(d.m).padStart(2, '0')}-${String(d.d).padStart(2, '0')}`;
const parse = (s: string) => s.split('-').map(Number) as [number, number, number];

describe('the Vietnamese lunar calendar (UTC+7)', () => {
  it.each(TET)('puts Tết %i on %s', (year, date) => {
    expect(iso(fromLunar({ day: 1, month: 1, year, leap: false }))).toBe(date);
    expect(toLunar(...parse(date))).toEqual({ day: 1, month: 1, year, leap: false });
  });

  it('knows the leap months, and which years have none', () => {
    expect([2017, 2020, 2023, 2025, 2028].map(leapMonthOf)).toEqual([6, 4, 2, 6, 5]);
    expect([2021, 2022, 2024, 2026, 2027].map(leapMonthOf)).toEqual([null, null, null, null, null]);
    // A leap month follows the month it repeats: 2025's month 6 from 25 June, its leap month 6 from 25 July, month 7 from 23 August.
    expect(toLunar(2025, 6, 25)).toEqual({ day: 1, month: 6, year: 2025, leap: false });
    expect(toLunar(2025, 7, 25)).toEqual({ day: 1, month: 6, year: 2025, leap: true });
    expect(toLunar(2025, 8, 23)).toEqual({ day: 1, month: 7, year: 2025, leap: false });
    expect(iso(fromLunar({ day: 1, month: 2, year: 2023, leap: true }))).toBe('2023-03-22');
    expect(iso(fromLunar({ day: 1, month: 4, year: 2020, leap: true }))).toBe('2020-05-23');
  });

  it('refuses a leap month the year does not have, and a day the month does not have', () => {
    expect(() => fromLunar({ day: 1, month: 3, year: 2023, leap: true })).toThrow(/no leap month 3 \(its leap month is 2\)/);
    expect(() => fromLunar({ day: 1, month: 5, year: 2026, leap: true })).toThrow(/has no leap month/);
    expect(() => fromLunar({ day: 31, month: 1, year: 2026, leap: false })).toThrow(RangeError);
    expect(() => fromLunar({ day: 1, month: 13, year: 2026, leap: false })).toThrow(RangeError);
  });

  it('finds the days a commune announces: rằm and mùng 1', () => {
    expect(iso(fromLunar({ day: 15, month: 1, year: 2026, leap: false }))).toBe('2026-03-03'); // Rằm tháng Giêng
    expect(iso(fromLunar({ day: 15, month: 7, year: 2025, leap: false }))).toBe('2025-09-06'); // Vu Lan
    expect(iso(fromLunar({ day: 15, month: 8, year: 2025, leap: false }))).toBe('2025-10-06'); // Trung thu
    expect(iso(fromLunar({ day: 15, month: 8, year: 2024, leap: false }))).toBe('2024-09-17');
    // Early January still belongs to the previous lunar year.
    expect(toLunar(2026, 1, 10)).toMatchObject({ year: 2025, month: 11 });
  });

  // Every day, not a sample: a random 3,000 of the 73,000 once missed 9/4/2062, where the mean lunation count ran
  // one ahead of the true new moon and the day came out as the "0th" of the next month.
  it('runs day by day without a gap: every month has 29 or 30 days and each day converts back (1900–2100, every day)', () => {
    let bad = 0;
    let prev = toLunar(1900, 2, 1);
    for (let j = jdn(1900, 2, 2); j <= jdn(2100, 12, 1); j++) {
      const today = fromJdn(j);
      const l = toLunar(today.y, today.m, today.d);
      const back = fromLunar(l);
      const roundTrip = back.y === today.y && back.m === today.m && back.d === today.d;
      const follows = l.day === 1 ? prev.day === 29 || prev.day === 30 : l.day === prev.day + 1 && l.month === prev.month && l.year === prev.year && l.leap === prev.leap;
      if (!roundTrip || !follows) expect.soft({ date: today, lunar: l, dayBefore: prev }).toBeUndefined();
      if (!roundTrip || !follows) bad++;
      // A short month has no 30th: asking for it is refused, not rolled into the next month.
      if (l.day === 1 && prev.day === 29) expect(() => fromLunar({ ...prev, day: 30 })).toThrow(/has 29 days/);
      if (bad > 5) break;
      prev = l;
    }
    expect(bad).toBe(0);
    expect(toLunar(2062, 4, 9)).toEqual({ day: 30, month: 2, year: 2062, leap: false });
  });
});
