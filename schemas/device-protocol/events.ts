import { Type, type Static } from '@sinclair/typebox';
import { EpochMsSchema } from '../common.ts';
import { RebootReasonSchema } from './presence.ts';
import { OutputStateSchema } from './telemetry.ts';

export const EVENT_TYPES = [
  'mains_lost',
  'mains_restored',
  'relay_tripped',
  'relay_reset',
  'output_fault',
  'output_restored',
  'overheat',
  'overheat_cleared',
  'battery_low',
  'reboot',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Something that happened between two telemetry reports. `id` makes redelivery idempotent. */
export const DeviceEventSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'unique over the device\'s lifetime (across reboots and resets); redelivered events keep their id' }),
    ts: EpochMsSchema,
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    output: Type.Optional(Type.Object({ index: Type.Integer({ minimum: 0, maximum: 7 }), state: OutputStateSchema })),
    voltageV: Type.Optional(Type.Number({ minimum: 0, maximum: 500 })),
    temperatureC: Type.Optional(Type.Number({ minimum: -40, maximum: 150 })),
    batteryPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    reason: Type.Optional(RebootReasonSchema),
  },
  { $id: 'DeviceEvent' },
);
export type DeviceEvent = Static<typeof DeviceEventSchema>;
