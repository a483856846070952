import { Type, type Static } from '@sinclair/typebox';
import { EpochMsSchema } from '../common.ts';

export const OUTPUT_STATES = ['ok', 'open', 'short', 'overload', 'off'] as const;
export const OutputStateSchema = Type.Union(OUTPUT_STATES.map((s) => Type.Literal(s)));
export type OutputState = (typeof OUTPUT_STATES)[number];

export const NETWORK_TYPES = ['4g', '3g', '2g', 'wifi', 'ethernet'] as const;

export const TelemetrySchema = Type.Object(
  {
    ts: EpochMsSchema,
    seq: Type.Optional(Type.Integer({ minimum: 0, description: 'monotonic per boot; lets the server see gaps' })),
    mains: Type.Object({
      present: Type.Boolean(),
      voltageV: Type.Union([Type.Number({ minimum: 0, maximum: 500 }), Type.Null()]),
    }),
    backup: Type.Object({
      active: Type.Boolean({ description: 'true while running on the DC backup (battery)' }),
      batteryV: Type.Number({ minimum: 0, maximum: 100 }),
      batteryPct: Type.Number({ minimum: 0, maximum: 100 }),
    }),
    relayTripped: Type.Boolean({ description: 'over/under-voltage protection relay is open' }),
    amp: Type.Object({ temperatureC: Type.Number({ minimum: -40, maximum: 150 }) }),
    outputs: Type.Array(
      Type.Object({ index: Type.Integer({ minimum: 0, maximum: 7 }), state: OutputStateSchema }),
      { minItems: 1, maxItems: 8 },
    ),
    volume: Type.Integer({ minimum: 0, maximum: 100 }),
    playing: Type.Union([
      Type.Null(),
      Type.Object({
        kind: Type.String({ maxLength: 32, description: 'e.g. content, tts, relay, live' }),
        ref: Type.String({ maxLength: 128, description: 'airing or content reference' }),
        title: Type.Optional(Type.String({ maxLength: 200 })),
      }),
    ]),
    network: Type.Object({
      type: Type.Union(NETWORK_TYPES.map((t) => Type.Literal(t))),
      rssiDbm: Type.Number({ minimum: -150, maximum: 0 }),
    }),
    storageFreeMb: Type.Number({ minimum: 0 }),
    uptimeS: Type.Integer({ minimum: 0 }),
    clockOffsetMs: Type.Union([Type.Number(), Type.Null()], {
      description: 'server clock minus device clock, as last measured by time sync; null before the first sync',
    }),
  },
  { $id: 'Telemetry' },
);
export type Telemetry = Static<typeof TelemetrySchema>;
