import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, OffsetSchema, TimestampSchema } from '../common.ts';
import { TelemetrySchema } from '../device-protocol/telemetry.ts';

export const SpeakerOutputSchema = Type.Object({
  index: Type.Integer({ minimum: 0, maximum: 7 }),
  label: Type.String({ minLength: 1, maxLength: 64 }),
  ratedW: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2000 }), Type.Null()])),
});

const ClusterFields = {
  name: Type.String({ minLength: 1, maxLength: 120 }),
  areaId: IdSchema,
  serial: Type.String({ minLength: 1, maxLength: 64 }),
  model: Type.Optional(Type.String({ maxLength: 64 })),
  hardwareVersion: Type.Optional(Type.String({ maxLength: 64 })),
  firmwareVersion: Type.Optional(Type.String({ maxLength: 64 })),
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  installedOn: Type.Optional(Type.String({ format: 'date', description: 'YYYY-MM-DD' })),
  notes: Type.Optional(Type.String({ maxLength: 2000 })),
  outputs: Type.Array(SpeakerOutputSchema, { minItems: 1, maxItems: 8 }),
};

export const CreateClusterSchema = Type.Object({ id: Type.Optional(IdSchema), ...ClusterFields });
export type CreateCluster = Static<typeof CreateClusterSchema>;
export const UpdateClusterSchema = Type.Partial(Type.Object(ClusterFields));
export type UpdateCluster = Static<typeof UpdateClusterSchema>;

export const ClusterHealthSchema = Type.Object({
  online: Type.Boolean(),
  lastSeen: Type.Union([TimestampSchema, Type.Null()]),
  changedAt: Type.Union([TimestampSchema, Type.Null()]),
  onBattery: Type.Boolean(),
  faults: Type.Array(Type.String(), { description: 'current faults, e.g. output-1-open, relay-tripped, overheat, mains-lost' }),
  malformedCount: Type.Integer(),
});

export const ClusterSchema = Type.Object(
  {
    id: IdSchema,
    ...ClusterFields,
    model: Type.Union([Type.String(), Type.Null()]),
    hardwareVersion: Type.Union([Type.String(), Type.Null()]),
    firmwareVersion: Type.Union([Type.String(), Type.Null()]),
    lat: Type.Union([Type.Number(), Type.Null()]),
    lon: Type.Union([Type.Number(), Type.Null()]),
    installedOn: Type.Union([Type.String(), Type.Null()]),
    notes: Type.Union([Type.String(), Type.Null()]),
    credential: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    health: ClusterHealthSchema,
  },
  { $id: 'Cluster' },
);
export type Cluster = Static<typeof ClusterSchema>;

export const ClusterDetailSchema = Type.Composite([
  Type.Omit(ClusterSchema, ['health']),
  Type.Object({
    health: ClusterHealthSchema,
    telemetry: Type.Union([TelemetrySchema, Type.Null()]),
    telemetryAt: Type.Union([TimestampSchema, Type.Null()]),
    birth: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    groups: Type.Array(Type.String()),
  }),
]);
export type ClusterDetail = Static<typeof ClusterDetailSchema>;

export const ClusterQuerySchema = Type.Object({
  areaId: Type.Optional(IdSchema),
  online: Type.Optional(Type.Boolean()),
  fault: Type.Optional(Type.Boolean({ description: 'true: only clusters with a current fault' })),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'search in name and serial' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 1000 })),
  offset: Type.Optional(OffsetSchema),
});
export type ClusterQuery = Static<typeof ClusterQuerySchema>;

/** The only time a device secret is ever shown. */
export const IssuedCredentialSchema = Type.Object({
  clusterId: IdSchema,
  username: Type.String({ description: 'MQTT username and client id (= cluster id)' }),
  secret: Type.String({ description: 'MQTT password; shown once, stored only as a hash' }),
});
export type IssuedCredential = Static<typeof IssuedCredentialSchema>;

export const ImportResultSchema = Type.Object({
  created: Type.Integer(),
  credentials: Type.Array(IssuedCredentialSchema),
});

export const ImportErrorSchema = Type.Object({
  line: Type.Integer({ description: '1-based: CSV line (header is line 1) or JSON array index + 1' }),
  field: Type.String(),
  message: Type.String(),
});

export const TelemetryQuerySchema = Type.Object({
  from: Type.Optional(TimestampSchema),
  to: Type.Optional(TimestampSchema),
  resolution: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, default: 0, description: 'bucket seconds; 0 = raw points' })),
});

export const TelemetryPointSchema = Type.Object({
  t: TimestampSchema,
  mainsV: Type.Union([Type.Number(), Type.Null()]),
  batteryV: Type.Number(),
  batteryPct: Type.Number(),
  onBattery: Type.Number({ description: 'fraction of the bucket spent on battery (0 or 1 for raw points)' }),
  ampTempC: Type.Number(),
  rssiDbm: Type.Number(),
  faultyOutputs: Type.Number(),
  samples: Type.Integer(),
});
export type TelemetryPoint = Static<typeof TelemetryPointSchema>;
