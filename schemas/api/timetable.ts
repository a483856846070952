import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from '../common.ts';
import { LevelSchema } from '../device-protocol/playback.ts';

/**
 * What an entry in the timetable is: planned (in the future, not yet sent to devices — beyond the planner's
 * horizon, or awaiting approval), scheduled (in the devices' manifests), airing, aired (every cluster), partial
 * (some clusters missed it), missed (none aired it, or never sent: `reason` says why), cancelled.
 */
export const ENTRY_STATES = ['planned', 'pending_approval', 'scheduled', 'airing', 'aired', 'partial', 'missed', 'cancelled'] as const;
export type EntryState = (typeof ENTRY_STATES)[number];

export const TimetableEntrySchema = Type.Object({
  key: Type.String({ description: 'stable: programme id, version and occurrence, or the broadcast id' }),
  programmeId: Type.Union([Type.String(), Type.Null()]),
  broadcastId: Type.Union([Type.String(), Type.Null()]),
  title: Type.String(),
  colour: Type.Union([Type.String(), Type.Null()]),
  level: LevelSchema,
  startAt: TimestampSchema,
  endAt: TimestampSchema,
  state: Type.Union(ENTRY_STATES.map((s) => Type.Literal(s))),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why it was missed, moved or flagged' }),
  clusters: Type.Object({ targeted: Type.Integer(), aired: Type.Integer(), missed: Type.Integer() }),
  missedBy: Type.Array(Type.Object({ clusterId: Type.String(), name: Type.String(), reason: Type.Union([Type.String(), Type.Null()]) }), { maxItems: 50 }),
  flags: Type.Array(Type.String(), { description: 'e.g. quiet_hours: planned before quiet hours changed and now inside them' }),
});
export type TimetableEntry = Static<typeof TimetableEntrySchema>;

export const IntervalSchema = Type.Object({ from: TimestampSchema, to: TimestampSchema });

export const TimetableSchema = Type.Object(
  {
    zone: Type.String(),
    from: TimestampSchema,
    to: TimestampSchema,
    entries: Type.Array(TimetableEntrySchema),
    quiet: Type.Array(IntervalSchema, { description: 'quiet hours in the range' }),
    free: Type.Array(IntervalSchema, { description: 'gaps with nothing planned that end where quiet hours begin (room left in the day)' }),
  },
  { $id: 'Timetable' },
);
export type Timetable = Static<typeof TimetableSchema>;

export const TimetableQuerySchema = Type.Object({
  areaId: Type.Optional(IdSchema),
  clusterId: Type.Optional(IdSchema),
  from: Type.Optional(TimestampSchema),
  to: Type.Optional(TimestampSchema),
});
export type TimetableQuery = Static<typeof TimetableQuerySchema>;

export const NowNextSchema = Type.Object({
  now: Type.Union([TimetableEntrySchema, Type.Null()]),
  next: Type.Union([TimetableEntrySchema, Type.Null()]),
});
export type NowNext = Static<typeof NowNextSchema>;
