import { Type, type Static } from '@sinclair/typebox';
import { COMMAND_NAMES } from '../device-protocol/commands.ts';
import { TimestampSchema } from '../common.ts';

export const COMMAND_STATES = ['sent', 'ok', 'rejected', 'failed', 'expired'] as const;

export const SendCommandSchema = Type.Object({
  name: Type.Union(COMMAND_NAMES.map((n) => Type.Literal(n))),
  args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  ttlS: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'seconds until the device must not execute it' })),
  waitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 30, default: 0, description: 'hold the response up to this long for the reply' })),
});
export type SendCommand = Static<typeof SendCommandSchema>;

export const CommandRecordSchema = Type.Object(
  {
    id: Type.String(),
    clusterId: Type.String(),
    name: Type.String(),
    args: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    issuedAt: TimestampSchema,
    expiresAt: TimestampSchema,
    issuedBy: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union(COMMAND_STATES.map((s) => Type.Literal(s))),
    reason: Type.Union([Type.String(), Type.Null()]),
    repliedAt: Type.Union([TimestampSchema, Type.Null()]),
  },
  { $id: 'CommandRecord' },
);
export type CommandRecord = Static<typeof CommandRecordSchema>;
