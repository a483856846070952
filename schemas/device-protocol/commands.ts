import { Type, type Static } from '@sinclair/typebox';
import { EpochMsSchema } from '../common.ts';

/** Commands of protocol v1. A device replies `rejected` / `unknown_command` to any other name. */
export const COMMAND_NAMES = ['ping', 'reboot', 'setVolume', 'setOutput', 'identify'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export const CommandArgsSchemas = {
  ping: Type.Object({}),
  reboot: Type.Object({}),
  setVolume: Type.Object({ volume: Type.Integer({ minimum: 0, maximum: 100 }) }),
  setOutput: Type.Object({ index: Type.Integer({ minimum: 0, maximum: 7 }), enabled: Type.Boolean() }),
  identify: Type.Object({ seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })) }),
} as const;

/** Server → device, on the device's `cmd` topic or a group's `cmd` topic. */
export const CommandSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.String({ minLength: 1, maxLength: 64, description: 'one of ' + COMMAND_NAMES.join(', ') }),
    issuedAt: EpochMsSchema,
    expiresAt: EpochMsSchema,
    args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Command' },
);
export type Command = Static<typeof CommandSchema>;

export const COMMAND_RESULTS = ['ok', 'rejected', 'failed'] as const;
export type CommandResult = (typeof COMMAND_RESULTS)[number];

/** Device → server, on the device's `reply` topic, once per command it received. */
export const CommandReplySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'the command id being answered' }),
    result: Type.Union(COMMAND_RESULTS.map((r) => Type.Literal(r))),
    reason: Type.Optional(
      Type.String({ maxLength: 200, description: 'why, for rejected/failed: expired, unknown_command, bad_args, malformed, busy …' }),
    ),
    ts: EpochMsSchema,
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'CommandReply' },
);
export type CommandReply = Static<typeof CommandReplySchema>;
