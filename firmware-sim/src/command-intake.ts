/**
 * Where commands from the device topic and group topics meet: at-most-once per id (a repeat gets the first reply
 * again), held while the first time sync is under way, then decided by commands.ts. Replies go to the outbox, so
 * one lost with a connection is sent again rather than forgotten.
 */
import type { Command } from '../../schemas/device-protocol/index.ts';
import type { CommandVia, SimCounters } from './cluster-types.ts';
import { codec } from './cluster-types.ts';
import { executeCommand, ReplyCache, type CommandTarget } from './commands.ts';

export interface IntakeHooks {
  target: CommandTarget;
  counters: SimCounters;
  /** True while no offset is measured yet but a sync burst is running. */
  awaitingFirstSync(): boolean;
  received(cmd: Command, info: CommandVia & { duplicate: boolean }): void;
  executed(cmd: Command): void;
  /** Queue an encoded reply; `onAck` runs once the broker acknowledged it. */
  send(encoded: Buffer, resent: boolean, onAck?: () => void): void;
  /** The reboot command: go offline cleanly and boot again. */
  reboot(): void;
  after(ms: number, fn: () => void): void;
}

export class CommandIntake {
  private readonly replies = new ReplyCache();
  private deferred: Command[] = [];

  constructor(private readonly h: IntakeHooks) {}

  receive(cmd: Command, via: CommandVia): void {
    this.h.counters.commandsReceived++;
    if (this.replies.has(cmd.id)) {
      this.h.counters.duplicates++;
      this.h.received(cmd, { ...via, duplicate: true });
      const first = this.replies.get(cmd.id);
      // Still in progress: its one reply is on the way.
      if (first) this.h.send(first, true);
      return;
    }
    this.replies.begin(cmd.id);
    this.h.received(cmd, { ...via, duplicate: false });
    // Without a measured offset the expiry check would use a clock that may be seconds off; wait for the burst.
    if (this.h.awaitingFirstSync()) this.deferred.push(cmd);
    else this.execute(cmd);
  }

  /** The sync burst finished (with or without a result): decide what was held. */
  releaseDeferred(): void {
    const waiting = this.deferred;
    this.deferred = [];
    for (const cmd of waiting) this.execute(cmd);
  }

  private execute(cmd: Command): void {
    const x = executeCommand(cmd, this.h.target);
    const k = this.h.counters;
    if (x.executed) {
      k.commandsExecuted++;
      this.h.executed(cmd);
    } else if (x.reply.reason === 'expired') k.commandsExpired++;
    else k.commandsRejected++;
    const encoded = codec.reply.encode(x.reply);
    this.replies.finish(cmd.id, encoded);
    if (x.then !== 'reboot') return this.h.send(encoded, false);
    // Reboot only after the ok reply is acknowledged (or after 3 s, if the link is too poor to say).
    let done = false;
    const go = () => {
      if (!done) (done = true), this.h.reboot();
    };
    this.h.send(encoded, false, go);
    this.h.after(3000, go);
  }
}
