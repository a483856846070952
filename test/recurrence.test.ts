import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Schedule } from '../schemas/api/recurrence.ts';
import { checkSchedule, instantOf, occurrences } from '../server/src/timetable/recurrence.ts';

const ZONE = 'Asia/Ho_Chi_Minh';
/** Instants shown as the commune's wall clock (UTC+7, no daylight saving), to read the tests as an officer would. */
const wall = (ms: number) => new Date(ms + 7 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
const at = (s: string) => Date.parse(s.replace(' ', 'T') + ':00+07:00');
const run = (s: Schedule, from: string, to: string) => occurrences(s, at(from), at(to), ZONE).map(wall);

describe('programme recurrence on the commune calendar', () => {
  it('airs every day at 06:00 for a week, the example a new user could not make with repeats', () => {
    expect(run({ recurrence: { kind: 'daily' }, time: '06:00', from: '2026-12-07', until: '2026-12-13' }, '2026-12-01 00:00', '2027-01-01 00:00')).toEqual(
      ['07', '08', '09', '10', '11', '12', '13'].map((d) => `2026-12-${d} 06:00`),
    );
  });

  it('crosses month and year ends on weekdays: thứ Hai đến thứ Sáu', () => {
    const got = run({ recurrence: { kind: 'weekly', weekdays: [1, 2, 3, 4, 5] }, time: '17:30' }, '2026-12-28 00:00', '2027-01-06 00:00');
    // 28 Dec 2026 is a Monday; 2 and 3 January 2027 are Saturday and Sunday.
    expect(got).toEqual(['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01', '2027-01-04', '2027-01-05'].map((d) => `${d} 17:30`));
  });

  it('skips a month without the day asked for (the 31st), and counts 29 February only in a leap year', () => {
    expect(run({ recurrence: { kind: 'monthly', days: [31] }, time: '07:00' }, '2027-01-01 00:00', '2027-06-01 00:00')).toEqual(['2027-01-31 07:00', '2027-03-31 07:00', '2027-05-31 07:00']);
    expect(run({ recurrence: { kind: 'monthly', days: [29] }, time: '07:00' }, '2028-02-01 00:00', '2028-03-01 00:00')).toEqual(['2028-02-29 07:00']);
    expect(run({ recurrence: { kind: 'monthly', days: [29] }, time: '07:00' }, '2027-02-01 00:00', '2027-03-01 00:00')).toEqual([]);
  });

  it('airs on mùng 1 and rằm (lunar), in given lunar months only, with or without the leap month', () => {
    const lunar = (extra = {}) => ({ recurrence: { kind: 'lunar' as const, days: [1, 15], ...extra }, time: '06:30' });
    // Rằm tháng Chạp (2 February), then Tết (17 February) = mùng 1 tháng Giêng, rằm tháng Giêng (3 March), mùng 1 tháng Hai.
    expect(run(lunar(), '2026-02-01 00:00', '2026-03-20 00:00')).toEqual(['2026-02-02 06:30', '2026-02-17 06:30', '2026-03-03 06:30', '2026-03-19 06:30']);
    expect(run(lunar({ months: [1] }), '2026-01-01 00:00', '2026-12-31 00:00')).toEqual(['2026-02-17 06:30', '2026-03-03 06:30']);
    // 2025 has a leap month 6 from 25 July: "tháng 6" with the leap month airs twice a day-1, without it once.
    expect(run(lunar({ days: [1], months: [6] }), '2025-06-01 00:00', '2025-09-01 00:00')).toEqual(['2025-06-25 06:30', '2025-07-25 06:30']);
    expect(run(lunar({ days: [1], months: [6], leapMonths: false }), '2025-06-01 00:00', '2025-09-01 00:00')).toEqual(['2025-06-25 06:30']);
  });

  it('takes a full RFC 5545 RRULE, counted from its first day', () => {
    const every2nd = { recurrence: { kind: 'rrule' as const, rule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO' }, time: '05:30', from: '2026-12-07' };
    expect(run(every2nd, '2026-12-01 00:00', '2027-01-15 00:00')).toEqual(['2026-12-07 05:30', '2026-12-21 05:30', '2027-01-04 05:30']);
    // The same rule asked over a later window gives the same Mondays: the anchor is "from", not the window.
    expect(run(every2nd, '2026-12-15 00:00', '2027-01-15 00:00')).toEqual(['2026-12-21 05:30', '2027-01-04 05:30']);
    const lastFriday = { recurrence: { kind: 'rrule' as const, rule: 'RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=2' }, time: '19:00', from: '2027-01-01' };
    expect(run(lastFriday, '2027-01-01 00:00', '2027-12-31 00:00')).toEqual(['2027-01-29 19:00', '2027-02-26 19:00']);
  });

  it('skips an exception date, or moves it to another day and time', () => {
    const s: Schedule = {
      recurrence: { kind: 'daily' },
      time: '06:00',
      exceptions: [{ date: '2026-12-09' }, { date: '2026-12-10', moveTo: { date: '2026-12-10', time: '07:15' } }, { date: '2026-12-11', moveTo: { date: '2026-12-12', time: '05:00' } }],
    };
    expect(run(s, '2026-12-08 00:00', '2026-12-13 00:00')).toEqual(['2026-12-08 06:00', '2026-12-10 07:15', '2026-12-12 05:00', '2026-12-12 06:00']);
  });

  it('keeps to the window edges: an occurrence at its start counts, one at its end does not', () => {
    const s: Schedule = { recurrence: { kind: 'daily' }, time: '06:00' };
    expect(run(s, '2026-12-08 06:00', '2026-12-09 06:00')).toEqual(['2026-12-08 06:00']);
    expect(run({ ...s, recurrence: { kind: 'once', date: '2026-12-24' } }, '2026-12-01 00:00', '2027-01-01 00:00')).toEqual(['2026-12-24 06:00']);
    expect(instantOf({ y: 2026, m: 12, d: 31 }, 23 * 60 + 30, ZONE)).toBe(Date.parse('2026-12-31T16:30:00Z'));
  });

  it('refuses a schedule that cannot be meant, naming the field', () => {
    const bad = (s: Schedule) => {
      try {
        checkSchedule(s);
        return null;
      } catch (e) {
        return (e as { field?: string }).field ?? 'no field';
      }
    };
    expect(bad({ recurrence: { kind: 'rrule', rule: 'FREQ=SOMETIMES' }, time: '06:00', from: '2026-12-01' })).toBe('body/schedule/recurrence/rule');
    expect(bad({ recurrence: { kind: 'rrule', rule: 'FREQ=DAILY' }, time: '06:00' })).toBe('body/schedule/from');
    expect(bad({ recurrence: { kind: 'rrule', rule: 'DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY' }, time: '06:00', from: '2026-12-01' })).toBe('body/schedule/recurrence/rule');
    expect(bad({ recurrence: { kind: 'daily' }, time: '06:00', from: '2026-12-10', until: '2026-12-01' })).toBe('body/schedule/until');
    expect(bad({ recurrence: { kind: 'daily' }, time: '06:00' })).toBeNull();
  });

  it('gives the same instants whichever way a period is cut into windows (what lets the planner materialise idempotently)', () => {
    const schedule = fc.oneof(
      fc.constant<Schedule>({ recurrence: { kind: 'daily' }, time: '05:30' }),
      fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }).map<Schedule>((w) => ({ recurrence: { kind: 'weekly', weekdays: w }, time: '17:00' })),
      fc.subarray([1, 15, 30], { minLength: 1 }).map<Schedule>((d) => ({ recurrence: { kind: 'lunar', days: d }, time: '06:00' })),
    );
    const start = at('2026-01-01 00:00');
    fc.assert(
      fc.property(schedule, fc.array(fc.integer({ min: 1, max: 60 * 24 * 20 }), { minLength: 1, maxLength: 8 }), (s, cuts) => {
        const bounds = [start];
        for (const c of cuts) bounds.push(bounds.at(-1)! + c * 60_000);
        const whole = occurrences(s, bounds[0], bounds.at(-1)!, ZONE);
        const pieces = bounds.slice(1).flatMap((b, i) => occurrences(s, bounds[i], b, ZONE));
        expect(pieces).toEqual(whole);
        for (const t of whole) expect(wall(t).slice(11)).toBe(s.time);
      }),
      { numRuns: 200 },
    );
  });
});
