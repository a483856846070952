import { Type, type Static } from '@sinclair/typebox';
import { EpochMsSchema } from '../common.ts';
import { DEVICE_FEATURES } from './stream.ts';

export const OutputInfoSchema = Type.Object({
  index: Type.Integer({ minimum: 0, maximum: 7, description: 'amplifier channel, 0-based' }),
  label: Type.Optional(Type.String({ maxLength: 64 })),
  ratedW: Type.Optional(Type.Number({ minimum: 0, maximum: 2000 })),
});

/** Retained presence. The device sets `{"state":"offline"}` as its MQTT last will on this topic. */
export const StatusSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    ts: Type.Optional(EpochMsSchema),
  },
  { $id: 'Status' },
);
export type Status = Static<typeof StatusSchema>;

export const RebootReasonSchema = Type.Union(
  ['power_on', 'watchdog', 'command', 'brownout', 'firmware_update', 'crash', 'unknown'].map((r) => Type.Literal(r)),
);

/** Sent once after every (re)connect: who the device is and what it can do. */
export const BirthSchema = Type.Object(
  {
    protocol: Type.Integer({ minimum: 1, description: 'device protocol major version the device speaks' }),
    firmware: Type.String({ minLength: 1, maxLength: 64 }),
    hardware: Type.String({ minLength: 1, maxLength: 64 }),
    model: Type.Optional(Type.String({ maxLength: 64 })),
    serial: Type.Optional(Type.String({ maxLength: 64 })),
    outputs: Type.Array(OutputInfoSchema, { minItems: 1, maxItems: 8 }),
    bootAt: EpochMsSchema,
    bootReason: Type.Optional(RebootReasonSchema),
    manifestVersion: Type.Optional(Type.Integer({ minimum: 0, description: 'store-and-forward manifest version held (v1.1)' })),
    features: Type.Optional(
      Type.Array(Type.Union(DEVICE_FEATURES.map((f) => Type.Literal(f))), { maxItems: 16, uniqueItems: true, description: 'optional capabilities (v1.2): stream = plays live stream items; absent = none' }),
    ),
  },
  { $id: 'Birth' },
);
export type Birth = Static<typeof BirthSchema>;
