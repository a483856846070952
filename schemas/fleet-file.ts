import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from './common.ts';
import { OutputInfoSchema } from './device-protocol/presence.ts';

/**
 * What a simulated (or factory-provisioned) cluster needs to connect: its id, its one-time secret, its outputs.
 * Written by the server for the demo fleet (LOA_DATA_DIR/demo-fleet.json, mode 0600) and by bulk provisioning
 * scripts; read by the simulator CLI and fleet runner.
 */
export const FleetMemberSchema = Type.Object({
  id: IdSchema,
  secret: Type.String({ minLength: 22 }),
  name: Type.Optional(Type.String()),
  serial: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  hardware: Type.Optional(Type.String()),
  firmware: Type.Optional(Type.String()),
  outputs: Type.Array(OutputInfoSchema, { minItems: 1, maxItems: 8 }),
});
export type FleetMember = Static<typeof FleetMemberSchema>;

export const FleetFileSchema = Type.Object({
  server: Type.Optional(Type.String({ description: 'mqtt://host:port the fleet connects to' })),
  http: Type.Optional(Type.String({ description: 'http(s)://host:port of the server, for content fetch' })),
  clusters: Type.Array(FleetMemberSchema),
});
export type FleetFile = Static<typeof FleetFileSchema>;
