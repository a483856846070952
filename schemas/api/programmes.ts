import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from '../common.ts';
import { TargetsSchema, TtsSourceSchema } from './broadcasts.ts';
import { DateSchema, ScheduleSchema, TimeOfDaySchema } from './recurrence.ts';

/**
 * One part of a programme, aired back to back with the others. A relay of a live upstream is a programme of its
 * own: it cannot be joined with files into one programme.
 */
export const ProgrammeItemSchema = Type.Union([
  Type.Object({ type: Type.Literal('content'), contentId: Type.String({ minLength: 1, maxLength: 64 }) }),
  Type.Object({ type: Type.Literal('tts'), ...TtsSourceSchema.properties }),
  Type.Object({ type: Type.Literal('playlist'), contentIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20 }) }),
  Type.Object(
    { type: Type.Literal('relay'), sourceId: Type.String({ minLength: 1, maxLength: 64 }), durationS: Type.Integer({ minimum: 60, maximum: 6 * 3600 }) },
    { description: 'relay of a stored upstream source ("Tiếp sóng VOV1") for durationS: the programme\'s only item' },
  ),
]);
export type ProgrammeItem = Static<typeof ProgrammeItemSchema>;

/** Emergencies are never scheduled: they air at once. */
export const ProgrammeLevelSchema = Type.Union([Type.Literal('normal'), Type.Literal('priority')]);

export const CLASH_RULES = ['refuse', 'shift', 'first'] as const;
export const QUIET_RULES = ['refuse', 'move'] as const;

export const ProgrammeInputSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 120 }),
  areaId: Type.String({ minLength: 1, maxLength: 64, description: 'the owning area: its time zone, quiet hours and session caps apply' }),
  colour: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: 'shown in the timetable' })),
  targets: TargetsSchema,
  level: ProgrammeLevelSchema,
  items: Type.Array(ProgrammeItemSchema, { minItems: 1, maxItems: 20, description: 'aired back to back, in this order' }),
  schedule: ScheduleSchema,
  volume: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  onClash: Type.Optional(
    Type.Union(CLASH_RULES.map((r) => Type.Literal(r)), {
      description: 'when it overlaps another normal item on a cluster: refuse to save (default), shift = this one starts after the other, first = this one keeps its time and the other starts after it',
    }),
  ),
  onQuietHours: Type.Optional(Type.Union(QUIET_RULES.map((r) => Type.Literal(r)), { description: 'an occurrence in quiet hours: refuse to save (default), or move it to the first allowed time' })),
});
export type ProgrammeInput = Static<typeof ProgrammeInputSchema>;

export const LunarDaySchema = Type.Object({ day: Type.Integer(), month: Type.Integer(), year: Type.Integer(), leap: Type.Boolean() });

/** One future airing of a programme, as the officer reads it. */
export const OccurrenceSchema = Type.Object({
  at: TimestampSchema,
  date: DateSchema,
  time: TimeOfDaySchema,
  weekday: Type.Integer({ minimum: 1, maximum: 7, description: 'ISO: 1 = thứ Hai … 7 = Chủ nhật' }),
  lunar: LunarDaySchema,
  moved: Type.Boolean({ description: 'moved by an exception, out of quiet hours or after a clash' }),
});
export type Occurrence = Static<typeof OccurrenceSchema>;

export const PROBLEM_KINDS = ['quiet_hours', 'session_cap', 'conflict'] as const;
/** Something that stops a save, or that the operator resolves with onClash / onQuietHours. */
export const ProblemSchema = Type.Object({
  kind: Type.Union(PROBLEM_KINDS.map((k) => Type.Literal(k))),
  message: Type.String(),
  field: Type.String(),
  at: Type.Optional(TimestampSchema),
  nextAllowed: Type.Optional(TimestampSchema),
  cap: Type.Optional(Type.Object({ session: Type.String(), from: TimeOfDaySchema, to: TimeOfDaySchema, limitMin: Type.Number(), usedMin: Type.Number(), thisMin: Type.Number(), date: DateSchema })),
  clash: Type.Optional(
    Type.Object({
      programmeId: Type.Union([Type.String(), Type.Null()]),
      broadcastId: Type.Union([Type.String(), Type.Null()]),
      name: Type.String(),
      clusters: Type.Array(Type.String(), { description: 'names of the clusters both air on (at most 20)' }),
      clusterCount: Type.Integer(),
      from: TimestampSchema,
      to: TimestampSchema,
    }),
  ),
});
export type Problem = Static<typeof ProblemSchema>;

export const PreviewSchema = Type.Object({
  durationMs: Type.Integer(),
  clusters: Type.Integer({ description: 'clusters it airs on' }),
  next: Type.Array(OccurrenceSchema, { description: 'the next ten occurrences' }),
  problems: Type.Array(ProblemSchema),
});
export type Preview = Static<typeof PreviewSchema>;

export const VERSION_STATES = ['pending_approval', 'approved', 'rejected', 'superseded', 'withdrawn'] as const;
export const ProgrammeVersionSchema = Type.Object({
  version: Type.Integer(),
  state: Type.Union(VERSION_STATES.map((s) => Type.Literal(s))),
  body: ProgrammeInputSchema,
  contentId: Type.Union([Type.String(), Type.Null()], { description: 'null for a relay programme' }),
  durationMs: Type.Integer(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdByName: Type.Union([Type.String(), Type.Null()]),
  createdAt: TimestampSchema,
  approvedBy: Type.Union([Type.String(), Type.Null()]),
  approvedByName: Type.Union([Type.String(), Type.Null()]),
  approvedAt: Type.Union([TimestampSchema, Type.Null()]),
  rejectReason: Type.Union([Type.String(), Type.Null()]),
});
export type ProgrammeVersion = Static<typeof ProgrammeVersionSchema>;

export const PROGRAMME_STATES = ['pending_approval', 'active', 'rejected', 'deleted'] as const;
export const ProgrammeSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    areaId: Type.String(),
    areaName: Type.String(),
    colour: Type.String(),
    state: Type.Union(PROGRAMME_STATES.map((s) => Type.Literal(s)), { description: 'active: a version is approved and airs; pending_approval: none yet, one waits' }),
    live: Type.Union([ProgrammeVersionSchema, Type.Null()], { description: 'the approved version, which airs' }),
    pending: Type.Union([ProgrammeVersionSchema, Type.Null()], { description: 'a change awaiting approval; the live version airs meanwhile' }),
    rejected: Type.Union([ProgrammeVersionSchema, Type.Null()], { description: 'the latest version, when an approver refused it (with the reason)' }),
    next: Type.Array(OccurrenceSchema, { description: 'the next ten occurrences of the live version (or of the pending one while none is live)' }),
    createdAt: TimestampSchema,
  },
  { $id: 'Programme' },
);
export type Programme = Static<typeof ProgrammeSchema>;

export const ProgrammeQuerySchema = Type.Object({
  areaId: Type.Optional(IdSchema),
  state: Type.Optional(Type.Union(PROGRAMME_STATES.map((s) => Type.Literal(s)))),
});
export type ProgrammeQuery = Static<typeof ProgrammeQuerySchema>;
