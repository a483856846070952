import { Type, type Static } from '@sinclair/typebox';

/** A calendar date as the officer means it, in the area's zone: 'YYYY-MM-DD'. */
export const DateSchema = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$', description: 'YYYY-MM-DD, wall calendar of the area' });
/** A wall-clock time of day, 24 h: 'HH:mm'. */
export const TimeOfDaySchema = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:mm, 24 h, wall clock of the area' });

/**
 * When a programme airs, as officers say it: once, every day, on chosen weekdays, on dates of the month, by a full
 * RFC 5545 RRULE, or on days of the lunar month (mùng 1, rằm), optionally only in given lunar months.
 */
export const RecurrenceSchema = Type.Union([
  Type.Object({ kind: Type.Literal('once'), date: DateSchema }),
  Type.Object({ kind: Type.Literal('daily') }),
  Type.Object({
    kind: Type.Literal('weekly'),
    weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: 'ISO weekdays: 1 = thứ Hai (Monday) … 7 = Chủ nhật (Sunday)' }),
  }),
  Type.Object({ kind: Type.Literal('monthly'), days: Type.Array(Type.Integer({ minimum: 1, maximum: 31 }), { minItems: 1, maxItems: 31, uniqueItems: true, description: 'days of the month; a month without that day is skipped' }) }),
  Type.Object({ kind: Type.Literal('rrule'), rule: Type.String({ minLength: 6, maxLength: 500, description: 'an RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR' }) }),
  Type.Object({
    kind: Type.Literal('lunar'),
    days: Type.Array(Type.Integer({ minimum: 1, maximum: 30 }), { minItems: 1, maxItems: 30, uniqueItems: true, description: 'days of the lunar month: 1 = mùng 1, 15 = rằm; a 29-day month has no 30th' }),
    months: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 12 }), { minItems: 1, maxItems: 12, uniqueItems: true, description: 'only in these lunar months; omitted: every month' })),
    leapMonths: Type.Optional(Type.Boolean({ description: 'also in a leap month (tháng nhuận); omitted: yes' })),
  }),
]);
export type Recurrence = Static<typeof RecurrenceSchema>;

/** One occurrence skipped, or moved to another day and time. */
export const ExceptionSchema = Type.Object({
  date: DateSchema,
  moveTo: Type.Optional(Type.Object({ date: DateSchema, time: TimeOfDaySchema })),
});

export const ScheduleSchema = Type.Object({
  recurrence: RecurrenceSchema,
  time: TimeOfDaySchema,
  from: Type.Optional(DateSchema),
  until: Type.Optional(DateSchema),
  exceptions: Type.Optional(Type.Array(ExceptionSchema, { maxItems: 366 })),
});
export type Schedule = Static<typeof ScheduleSchema>;
