/**
 * Command handling of protocol v1: expiry against the device's estimate of server time, at-most-once execution per
 * id, argument validation, and the v1 command set. Transport and timing live in SimCluster; this file decides.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import {
  COMMAND_NAMES,
  CommandArgsSchemas,
  type Command,
  type CommandName,
  type CommandReply,
} from '../../schemas/device-protocol/index.ts';

/** What commands act on; implemented by SimCluster. */
export interface CommandTarget {
  /** Device clock, integer ms. */
  deviceNow(): number;
  /** Measured server − device offset, null before the first time sync. */
  clockOffsetMs(): number | null;
  setVolume(volume: number): void;
  /** Returns false if the device has no such output. */
  setOutput(index: number, enabled: boolean): boolean;
  identify(seconds: number): void;
}

const checks = Object.fromEntries(
  Object.entries(CommandArgsSchemas).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)]),
) as Record<CommandName, TypeCheck<TSchema>>;

const isCommandName = (n: string): n is CommandName => (COMMAND_NAMES as readonly string[]).includes(n);

/** `then: 'reboot'` asks the caller to reboot once the ok reply is acknowledged, as the contract orders. */
export type Execution = { reply: CommandReply; executed: boolean; then?: 'reboot' };

/** Decide and, if valid and fresh, carry out one command. */
export function executeCommand(cmd: Command, t: CommandTarget): Execution {
  const ts = t.deviceNow();
  const reply = (result: CommandReply['result'], reason?: string, data?: Record<string, unknown>): CommandReply => ({
    id: cmd.id,
    result,
    ts,
    ...(reason ? { reason } : {}),
    ...(data ? { data } : {}),
  });
  // Before the first sync the device can only trust its own clock; that is the best it has (offset 0).
  const serverNow = ts + (t.clockOffsetMs() ?? 0);
  if (serverNow > cmd.expiresAt) return { reply: reply('rejected', 'expired'), executed: false };
  if (!isCommandName(cmd.name)) return { reply: reply('rejected', 'unknown_command'), executed: false };
  const args = cmd.args ?? {};
  const check = checks[cmd.name];
  if (!check.Check(args)) {
    const e = check.Errors(args).First();
    return { reply: reply('rejected', 'bad_args', { error: e ? `${e.path || '/'}: ${e.message}` : 'invalid args' }), executed: false };
  }
  const a = args as Record<string, never>;
  switch (cmd.name) {
    case 'ping':
      return { reply: reply('ok'), executed: true };
    case 'setVolume':
      t.setVolume(a.volume);
      return { reply: reply('ok', undefined, { volume: a.volume }), executed: true };
    case 'setOutput':
      if (!t.setOutput(a.index, a.enabled)) {
        return { reply: reply('rejected', 'bad_args', { error: `no output ${a.index}` }), executed: false };
      }
      return { reply: reply('ok'), executed: true };
    case 'identify': {
      const seconds = (a as { seconds?: number }).seconds ?? 10;
      t.identify(seconds);
      return { reply: reply('ok', undefined, { seconds }), executed: true };
    }
    case 'reboot':
      return { reply: reply('ok'), executed: true, then: 'reboot' };
  }
}

/**
 * Remembers the reply sent for each recent command id so a redelivered command is answered, not re-run. Bounded:
 * commands expire within minutes, so a few hundred ids cover any realistic redelivery window.
 */
export class ReplyCache {
  private map = new Map<string, Buffer | null>();
  constructor(private readonly cap = 256) {}

  has(id: string): boolean {
    return this.map.has(id);
  }

  /** The encoded first reply, or null while the command is still being handled. */
  get(id: string): Buffer | null | undefined {
    return this.map.get(id);
  }

  begin(id: string): void {
    this.set(id, null);
  }

  finish(id: string, encoded: Buffer): void {
    this.set(id, encoded);
  }

  private set(id: string, v: Buffer | null): void {
    this.map.delete(id);
    this.map.set(id, v);
    if (this.map.size > this.cap) this.map.delete(this.map.keys().next().value as string);
  }

  get size(): number {
    return this.map.size;
  }
}
