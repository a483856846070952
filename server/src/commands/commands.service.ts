import { Value } from '@sinclair/typebox/value';
import type { CommandRecord, SendCommand } from '../../../schemas/api/commands.ts';
import { CommandArgsSchemas, type CommandName, type CommandReply } from '../../../schemas/device-protocol/commands.ts';
import { deviceTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Publisher } from '../mqtt/publisher.ts';
import type { Actor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { badRequest } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { CommandRow as Row, CommandsRepo } from './commands.repo.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toRecord(r: Row): CommandRecord {
  return { ...r, args: (r.args as Record<string, unknown>) ?? null, state: r.state as CommandRecord['state'], issuedAt: iso(r.issuedAt)!, expiresAt: iso(r.expiresAt)!, repliedAt: iso(r.repliedAt) };
}

/** Commands to one cluster: recorded, published on the device's `cmd` topic, closed by the device's reply or expiry. */
export class CommandsService {
  constructor(
    private repo: CommandsRepo,
    private publisher: Publisher,
    private bus: Bus,
    private clock: Clock,
    /** replies handled by another instance on the database (its share of the devices' messages) */
    private remote?: Bus,
  ) {}

  async send(clusterId: string, req: SendCommand, actor: Actor): Promise<CommandRecord> {
    const args = req.args ?? {};
    const schema = CommandArgsSchemas[req.name as CommandName];
    if (!Value.Check(schema, args)) {
      const e = Value.Errors(schema, args).First();
      throw badRequest(`args${e?.path ?? ''}: ${e?.message ?? 'invalid'}`, `body/args${e?.path ?? ''}`);
    }
    const now = this.clock.now();
    const row: Row = { id: newId('cmd', 12), clusterId, name: req.name, args, issuedAt: now, expiresAt: now + (req.ttlS ?? 60) * 1000, issuedBy: actor.name, state: 'sent', reason: null, repliedAt: null };
    await this.repo.insert(row); // recorded before it is published: a fast reply finds it
    const payload = { id: row.id, name: row.name, issuedAt: row.issuedAt, expiresAt: row.expiresAt, args };
    await this.publisher.publish(deviceTopic(clusterId, 'cmd'), Buffer.from(JSON.stringify(payload)), { qos: 1 });
    return toRecord(row);
  }

  /**
   * The device's answer. Replies to unknown ids, to another cluster's command, or repeated ones change nothing.
   * `expired` (set by the expiry job when nobody had answered yet) is provisional: a reply that arrives later is
   * still what the device did (it may have run the command just in time, or rejected it as expired), so the
   * outcome does not depend on when the job happened to run.
   */
  async reply(clusterId: string, r: CommandReply, receivedAt: number): Promise<boolean> {
    const closed = await this.repo.close(clusterId, r.id, { state: r.result, reason: r.reason ?? null, repliedAt: receivedAt });
    if (closed) this.bus.emit('command.reply', { clusterId, commandId: r.id, state: r.result, reason: r.reason });
    return closed;
  }

  async get(id: string): Promise<CommandRecord | null> {
    const r = await this.repo.get(id);
    return r ? toRecord(r) : null;
  }

  async list(clusterId: string, limit = 50): Promise<CommandRecord[]> {
    return (await this.repo.listByCluster(clusterId, limit)).map(toRecord);
  }

  /** Closes commands nobody answered before they expired. */
  expire(at = this.clock.now()): Promise<number> {
    return this.repo.expireBefore(at);
  }

  /** Resolves when the command is closed (or after `ms`), with its latest record. */
  waitFor(id: string, ms: number): Promise<CommandRecord | null> {
    return new Promise((resolve) => {
      const done = () => {
        offs.forEach((off) => off());
        clearTimeout(timer);
        resolve(this.get(id));
      };
      const offs = [this.bus, this.remote].map((b) => b?.on('command.reply', (p) => p.commandId === id && done()) ?? (() => undefined));
      const timer = setTimeout(done, ms);
    });
  }
}
