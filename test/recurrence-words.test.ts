import { describe, expect, it } from 'vitest';
import { vi } from '../web/src/i18n/vi.ts';
import { en } from '../web/src/i18n/en.ts';
import { durationWords, occurrenceWords, rangeWords, scheduleWords } from '../web/src/components/recurrence-words.ts';
import type { Recurrence } from '../schemas/api/recurrence.ts';

const at = (recurrence: Recurrence, time = '05:30') => ({ recurrence, time });

/** Issue 11: a programme's schedule in the words a commune officer says it, and the same in English. */
describe('recurrence in words', () => {
  it('says daily, weekday ranges and single weekdays as an officer does', () => {
    expect(scheduleWords(at({ kind: 'daily' }), vi)).toBe('Hằng ngày lúc 05:30');
    expect(scheduleWords(at({ kind: 'weekly', weekdays: [5, 1, 2, 4, 3] }, '17:00'), vi)).toBe('Thứ 2 đến thứ 6 lúc 17:00');
    expect(scheduleWords(at({ kind: 'weekly', weekdays: [6, 7] }), vi)).toBe('Thứ 7 và Chủ nhật lúc 05:30');
    expect(scheduleWords(at({ kind: 'weekly', weekdays: [1, 3, 5] }), vi)).toBe('Thứ 2, thứ 4 và thứ 6 lúc 05:30');
    expect(scheduleWords(at({ kind: 'weekly', weekdays: [1, 2, 3, 5, 6, 7] }), vi)).toBe('Thứ 2 đến thứ 4 và thứ 6 đến Chủ nhật lúc 05:30');
    // all seven days are simply every day
    expect(scheduleWords(at({ kind: 'weekly', weekdays: [1, 2, 3, 4, 5, 6, 7] }), vi)).toBe('Hằng ngày lúc 05:30');
    expect(scheduleWords(at({ kind: 'weekly', weekdays: [1, 2, 3, 4, 5] }, '17:00'), en)).toBe('Monday to Friday at 17:00');
    expect(scheduleWords(at({ kind: 'daily' }), en)).toBe('Every day at 05:30');
  });

  it('names mùng 1 and rằm of the lunar month, the lunar months (Giêng, Chạp) and the leap month', () => {
    expect(scheduleWords(at({ kind: 'lunar', days: [15, 1] }, '06:00'), vi)).toBe('Mùng 1 và rằm hằng tháng (âm lịch) lúc 06:00');
    expect(scheduleWords(at({ kind: 'lunar', days: [15], months: [12, 1] }, '06:00'), vi)).toBe('Rằm tháng Giêng và tháng Chạp (âm lịch) lúc 06:00');
    expect(scheduleWords(at({ kind: 'lunar', days: [1, 23], leapMonths: false }, '06:00'), vi)).toBe('Mùng 1 và ngày 23 hằng tháng (âm lịch) lúc 06:00, trừ tháng nhuận');
    expect(scheduleWords(at({ kind: 'lunar', days: [1, 15] }, '06:00'), en)).toBe('Day 1 and the full moon (day 15) of every lunar month at 06:00');
  });

  it('says once, monthly and a raw RRULE, and the from/until range in dd/MM/yyyy', () => {
    expect(scheduleWords(at({ kind: 'once', date: '2026-12-07' }), vi)).toBe('Một lần, ngày 07/12/2026 lúc 05:30');
    expect(scheduleWords(at({ kind: 'monthly', days: [15, 1] }), vi)).toBe('Hằng tháng vào ngày 1 và 15 lúc 05:30');
    expect(scheduleWords(at({ kind: 'rrule', rule: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO' }), vi)).toBe('Theo quy tắc FREQ=WEEKLY;INTERVAL=2;BYDAY=MO lúc 05:30');
    expect(rangeWords({ from: '2026-12-01', until: '2026-12-31' }, vi)).toBe('Từ 01/12/2026 đến 31/12/2026');
    expect(rangeWords({ from: '2026-12-01', until: '2026-12-31' }, en)).toBe('From 01/12/2026 to 31/12/2026');
    expect(rangeWords({ from: '2026-12-01' }, vi)).toBe('Từ 01/12/2026');
    expect(rangeWords({}, vi)).toBe('');
  });

  it('lists an occurrence with its weekday, solar date and lunar date, naming rằm and mùng 1', () => {
    const o = { date: '2026-12-07', time: '05:30', weekday: 1, lunar: { day: 27, month: 10, year: 2026, leap: false } };
    expect(occurrenceWords(o, vi)).toBe('T2 07/12/2026 · 05:30 — 27/10 ÂL');
    expect(occurrenceWords({ ...o, weekday: 7, lunar: { day: 15, month: 11, year: 2026, leap: false } }, vi)).toBe('CN 07/12/2026 · 05:30 — 15/11 ÂL (rằm)');
    expect(occurrenceWords({ ...o, lunar: { day: 1, month: 6, year: 2025, leap: true } }, vi)).toBe('T2 07/12/2026 · 05:30 — 01/06 nhuận ÂL (mùng 1)');
    expect(occurrenceWords(o, en)).toBe('Mon 07/12/2026 · 05:30 — lunar 27/10');
  });

  it('gives a programme length in hours, minutes and seconds', () => {
    expect(durationWords(95_000, vi)).toBe('1 phút 35 giây');
    expect(durationWords(3_900_000, vi)).toBe('1 giờ 5 phút');
    expect(durationWords(0, vi)).toBe('0 giây');
  });
});
