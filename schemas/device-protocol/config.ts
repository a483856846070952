import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from '../common.ts';

/** Retained, server → device. Tells the device how often to report and which group topics to follow. */
export const DeviceConfigSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1, description: 'increases on every change' }),
    telemetryIntervalS: Type.Integer({ minimum: 5, maximum: 3600 }),
    timeSyncIntervalS: Type.Integer({ minimum: 30, maximum: 86400 }),
    groups: Type.Array(IdSchema, { maxItems: 32, description: 'subscribe to loa/v1/grp/{group}/cmd and (v1.1) loa/v1/grp/{group}/play for each' }),
    emergencyVolume: Type.Integer({ minimum: 0, maximum: 100 }),
  },
  { $id: 'DeviceConfig' },
);
export type DeviceConfig = Static<typeof DeviceConfigSchema>;
