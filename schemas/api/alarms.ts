import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, OffsetSchema, TimestampSchema } from '../common.ts';

/**
 * critical: the cluster cannot air (offline) or soon will not (battery low); major: part of it is out (a speaker
 * line, the relay, an overheating amplifier); minor: it still airs but needs a visit (mains lost, running on battery).
 */
export const ALARM_SEVERITIES = ['critical', 'major', 'minor'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

/** Longest acknowledgement note: a sentence or two typed on a phone in the field. */
export const ACK_NOTE_MAX = 500;

/**
 * One alarm (cảnh báo / sự cố): a fault of one cluster from its first occurrence until it is both cleared and
 * acknowledged (ISA-18.2: a cleared alarm nobody acknowledged comes back as the same alarm, with `count` + 1).
 * At most one such alarm per (cluster, type).
 */
export const AlarmSchema = Type.Object(
  {
    id: IdSchema,
    clusterId: IdSchema,
    clusterName: Type.String(),
    areaId: Type.String({ description: 'the cluster\'s area now' }),
    type: Type.String({ description: 'the fault code: mains-lost, relay-tripped, overheat, battery-low, output-<n>-open|short|overload, or offline' }),
    outputLabel: Type.Union([Type.String(), Type.Null()], { description: 'for an output-<n>-… fault: that speaker output\'s label, e.g. Loa hướng Nam' }),
    severity: Type.Union(ALARM_SEVERITIES.map((s) => Type.Literal(s))),
    active: Type.Boolean({ description: 'the fault is present now (clearedAt is null)' }),
    raisedAt: TimestampSchema,
    lastAt: Type.String({ format: 'date-time', description: 'the latest occurrence, ISO 8601 instant, UTC' }),
    clearedAt: Type.Union([TimestampSchema, Type.Null()]),
    count: Type.Integer({ minimum: 1, description: 'occurrences: 1 + the times it came back before anyone acknowledged it' }),
    ackedBy: Type.Union([Type.String(), Type.Null()], { description: 'user id of who acknowledged' }),
    ackedByName: Type.Union([Type.String(), Type.Null()], { description: 'their name as shown (display name, else username)' }),
    ackedAt: Type.Union([TimestampSchema, Type.Null()]),
    ackNote: Type.Union([Type.String(), Type.Null()]),
    batteryHours: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: 'while on battery: hours left at the discharge rate measured over the recent telemetry; null when it cannot be measured',
    }),
  },
  { $id: 'Alarm' },
);
export type Alarm = Static<typeof AlarmSchema>;

export const AlarmQuerySchema = Type.Object({
  areaId: Type.Optional(IdSchema),
  clusterId: Type.Optional(IdSchema),
  active: Type.Optional(Type.Boolean({ description: 'true: only faults present now; false: only cleared ones' })),
  acknowledged: Type.Optional(Type.Boolean()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  offset: Type.Optional(OffsetSchema),
});
export type AlarmQuery = Static<typeof AlarmQuerySchema>;

export const AlarmParamsSchema = Type.Object({ id: IdSchema });

export const AckAlarmSchema = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: ACK_NOTE_MAX, description: 'what was done or will be done; may be empty' })) },
  { additionalProperties: false },
);
export type AckAlarm = Static<typeof AckAlarmSchema>;
