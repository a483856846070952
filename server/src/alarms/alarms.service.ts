import { ACK_NOTE_MAX, type Alarm, type AlarmQuery } from '../../../schemas/api/alarms.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Tx } from '../db/tx.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { HealthStore } from '../health/health.store.ts';
import type { Actor } from '../shared/actor.ts';
import type { Bus, DomainEvents } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { badRequest, conflict, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { batteryHoursLeft, OFFLINE, ON_BATTERY_TYPES, seenAt, severityOf, type BatteryPoint } from './advice.ts';
import type { AlarmRow, AlarmsRepo } from './alarms.repo.ts';

export type AlarmChange = DomainEvents['alarm.changed']['change'];

// Declared here rather than in shared/bus.ts so the capability stays in its folder; the bus is typed the same.

/** What the alarms read from the rest of the server, and nothing more. */
export interface AlarmDeps {
  areas: Pick<AreasService, 'inScope' | 'exists' | 'descendants'>;
  directory: Pick<DeviceDirectory, 'areaOf' | 'ids'>;
  clusterName(id: string): string;
  /** a speaker output's label, null if the cluster has no such output */
  outputLabel(clusterId: string, index: number): string | null;
  health: Pick<HealthStore, 'peek' | 'entries'>;
  /** telemetry between two instants, oldest first */
  batteryHistory(clusterId: string, from: number, to: number): Promise<BatteryPoint[]>;
  displayNameOf(username: string): Promise<string | null>;
  audit: Pick<AuditService, 'record'>;
  /** a failure in bookkeeping must not fail the telemetry or presence handling that triggered it */
  onError(err: unknown): void;
}

/** How far back the discharge rate is measured. */
const BATTERY_WINDOW_MS = 6 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const outputIndex = (type: string): number | null => {
  const m = /^output-(\d+)-/.exec(type);
  return m ? Number(m[1]) : null;
};

/**
 * Raises and clears alarms from the faults the health services derive (bus `cluster.health`) and from presence
 * (`cluster.status`), and lets people acknowledge them. One open alarm per (cluster, type); see AlarmSchema.
 */
export class AlarmsService {
  constructor(
    private repo: AlarmsRepo,
    private d: AlarmDeps,
    private bus: Bus,
    private clock: Clock,
  ) {}

  /**
   * The bookkeeping in progress. Events are handled one at a time, in the order they came, as when the database was
   * synchronous: each reads the open alarms the one before wrote (two reports of one fault must not raise it twice).
   */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Catches up with the faults loaded from the last run (a crash may have come between the two writes), then listens.
   * Once the health store and the directory are loaded. Listening begins at once: an event during the catch-up is
   * handled after it.
   */
  async start(): Promise<() => void> {
    const offs = [
      this.bus.on('cluster.health', (p) => void this.guard(() => this.reconcile(p.clusterId, p.faults, seenAt(this.d.health.peek(p.clusterId)?.telemetry, p.at)))),
      this.bus.on('cluster.status', (p) => void this.guard(() => this.presence(p.clusterId, p.online, p.at))),
    ];
    const stop = () => offs.forEach((off) => off());
    try {
      await this.serial(async () => {
        const open = new Map<string, AlarmRow[]>();
        for (const a of await this.repo.open()) open.set(a.clusterId, [...(open.get(a.clusterId) ?? []), a]);
        const now = this.clock.now();
        for (const [id, h] of this.d.health.entries()) await this.caught(() => this.reconcile(id, h.faults, h.telemetryAt ?? now, open.get(id) ?? []));
      });
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /**
   * Raises `offline` for a cluster that is offline with no event to say so: one that was connected when the server
   * stopped and has not come back since (presence starts everyone offline without an event). Silent for longer than
   * `graceMs` counts; a cluster never heard from is not installed yet, not broken. A periodic job; cheap when idle.
   */
  sweepOffline(graceMs: number): Promise<number> {
    return this.serial(async () => {
      const now = this.clock.now();
      const offline = new Map((await this.repo.open()).filter((x) => x.type === OFFLINE).map((x) => [x.clusterId, x]));
      let n = 0;
      for (const [id, h] of this.d.health.entries()) {
        const since = h.lastSeen ?? null;
        if (h.online || since === null || since > now - graceMs || !this.d.directory.areaOf(id)) continue;
        const a = offline.get(id);
        if (a && a.clearedAt === null) continue;
        await this.caught(async () => this.tell(id, await this.raise(id, OFFLINE, since, a), since));
        n++;
      }
      return n;
    });
  }

  /** Runs `fn` after the bookkeeping queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Queued, and a failure reported rather than thrown. */
  private guard(fn: () => Promise<void>): Promise<void> {
    return this.serial(() => this.caught(fn));
  }

  private async caught(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.d.onError(err);
    }
  }

  /** Makes the cluster's open fault alarms match its current faults (offline is presence's, left alone). */
  private async reconcile(clusterId: string, faults: string[], at: number, known?: AlarmRow[]): Promise<void> {
    const open = known ?? (await this.repo.open(clusterId));
    const current = new Set(faults);
    const mine = new Map(open.filter((a) => a.type !== OFFLINE).map((a) => [a.type, a]));
    const gone = [...mine.values()].filter((a) => a.clearedAt === null && !current.has(a.type));
    const back = [...current].filter((type) => mine.get(type)?.clearedAt !== null);
    // Most calls change nothing (a battery state flip, the start-up pass over a healthy fleet): no transaction then.
    if (!gone.length && !back.length) return;
    const changes: [AlarmRow | string, AlarmChange][] = [];
    await this.repo.transaction(async (tx) => {
      for (const a of gone) changes.push([await this.clear(a, at, tx), 'cleared']);
      for (const type of back) changes.push(...(await this.raise(clusterId, type, at, mine.get(type), tx)));
    });
    await this.tell(clusterId, changes, at);
  }

  private async presence(clusterId: string, online: boolean, at: number): Promise<void> {
    const a = (await this.repo.open(clusterId)).find((x) => x.type === OFFLINE);
    const changes = online ? (a && a.clearedAt === null ? [[await this.clear(a, at), 'cleared'] as [AlarmRow, AlarmChange]] : []) : await this.raise(clusterId, OFFLINE, at, a);
    await this.tell(clusterId, changes, at);
  }

  /** A new alarm; or the same one again if it had cleared unacknowledged; nothing if it is active already. */
  private async raise(clusterId: string, type: string, at: number, open: AlarmRow | undefined, tx?: Tx): Promise<[AlarmRow | string, AlarmChange][]> {
    if (open && open.clearedAt === null) return [];
    if (open) {
      await this.repo.update(open.id, { clearedAt: null, lastAt: Math.max(at, open.lastAt), count: open.count + 1 }, tx);
      return [[open, 'repeated']];
    }
    const id = newId('al');
    await this.repo.insert({ id, clusterId, type, severity: severityOf(type), raisedAt: at, lastAt: at, count: 1 }, tx);
    return [[id, 'raised']];
  }

  private async clear(a: AlarmRow, at: number, tx?: Tx): Promise<AlarmRow> {
    await this.repo.update(a.id, { clearedAt: Math.max(at, a.lastAt) }, tx);
    return a;
  }

  /** Announces what changed, once it is written (after the transaction, never inside it). */
  private async tell(clusterId: string, changes: [AlarmRow | string, AlarmChange][], at: number): Promise<void> {
    const areaId = this.d.directory.areaOf(clusterId);
    if (!areaId) return;
    for (const [a, change] of changes) {
      const row = typeof a === 'string' ? (await this.repo.get(a))! : a;
      this.bus.emit('alarm.changed', { alarmId: row.id, clusterId, areaId, type: row.type, change, at });
    }
  }

  async list(q: AlarmQuery, actor: Actor): Promise<Alarm[]> {
    if (q.clusterId && !this.visible(q.clusterId, actor)) throw notFound('cluster', 'querystring/clusterId');
    if (q.areaId && (!this.d.areas.exists(q.areaId) || !this.d.areas.inScope(actor.scope, q.areaId))) throw notFound('area', 'querystring/areaId');
    const within = q.areaId ? this.d.areas.descendants(q.areaId) : null;
    const wanted = (id: string) => {
      const areaId = this.d.directory.areaOf(id);
      return !!areaId && this.d.areas.inScope(actor.scope, areaId) && (!within || within.has(areaId));
    };
    // Scope is decided here, from the registry in memory; the query then only narrows by cluster.
    const clusterIds = q.clusterId ? [q.clusterId].filter(wanted) : within || actor.scope !== 'all' ? [...this.d.directory.ids()].filter(wanted) : null;
    const rows = await this.repo.list({ clusterIds, active: q.active, acknowledged: q.acknowledged, limit: q.limit ?? 200, offset: q.offset ?? 0 });
    const hours = new Map<string, number | null>();
    const out: Alarm[] = [];
    for (const r of rows) out.push(await this.view(r, hours));
    return out;
  }

  async get(id: string, actor: Actor): Promise<Alarm> {
    return this.view(await this.row(id, actor));
  }

  /** Acknowledged once: a second person is told who was first (409) rather than overwriting their note. */
  acknowledge(id: string, note: string | undefined, actor: Actor): Promise<Alarm> {
    // In the queue: a fault handled meanwhile reads the alarm as acknowledged or not, never in between.
    return this.serial(() => this.acknowledgeNow(id, note, actor));
  }

  private async acknowledgeNow(id: string, note: string | undefined, actor: Actor): Promise<Alarm> {
    const a = await this.row(id, actor);
    const text = note?.trim() || null;
    if (text && text.length > ACK_NOTE_MAX) throw badRequest(`note must be at most ${ACK_NOTE_MAX} characters`, 'body/note');
    const taken = async () => conflict(`alarm already acknowledged by ${(await this.repo.get(id))?.ackedByName ?? 'someone'}`, 'params/id');
    if (a.ackedAt !== null) throw await taken();
    const at = this.clock.now();
    const byName = (await this.d.displayNameOf(actor.name)) ?? actor.name;
    if (!(await this.repo.acknowledge(id, { ackedBy: actor.id ?? actor.name, ackedByName: byName, ackedAt: at, ackNote: text }))) throw await taken();
    await this.d.audit.record(actor, 'alarm.ack', { type: 'alarm', id }, { clusterId: a.clusterId, alarmType: a.type, note: text });
    await this.tell(a.clusterId, [[a, 'acknowledged']], at);
    return this.get(id, actor);
  }

  private visible(clusterId: string, actor: Actor): boolean {
    const areaId = this.d.directory.areaOf(clusterId);
    return !!areaId && this.d.areas.inScope(actor.scope, areaId);
  }

  private async row(id: string, actor: Actor): Promise<AlarmRow> {
    const a = await this.repo.get(id);
    if (!a || !this.visible(a.clusterId, actor)) throw notFound('alarm', 'params/id');
    return a;
  }

  private async view(a: AlarmRow, hours = new Map<string, number | null>()): Promise<Alarm> {
    let batteryHours: number | null = null;
    if (a.clearedAt === null && ON_BATTERY_TYPES.has(a.type)) {
      if (!hours.has(a.clusterId)) hours.set(a.clusterId, await this.batteryHours(a.clusterId));
      batteryHours = hours.get(a.clusterId)!;
    }
    return {
      id: a.id,
      clusterId: a.clusterId,
      clusterName: this.d.clusterName(a.clusterId),
      areaId: this.d.directory.areaOf(a.clusterId) ?? '',
      type: a.type,
      outputLabel: outputIndex(a.type) === null ? null : this.d.outputLabel(a.clusterId, outputIndex(a.type)!),
      severity: a.severity as Alarm['severity'],
      active: a.clearedAt === null,
      raisedAt: iso(a.raisedAt),
      lastAt: iso(a.lastAt),
      clearedAt: a.clearedAt === null ? null : iso(a.clearedAt),
      count: a.count,
      ackedBy: a.ackedBy,
      ackedByName: a.ackedByName,
      ackedAt: a.ackedAt === null ? null : iso(a.ackedAt),
      ackNote: a.ackNote,
      batteryHours,
    };
  }

  private async batteryHours(clusterId: string): Promise<number | null> {
    if (!this.d.health.peek(clusterId)?.telemetry?.backup.active) return null;
    const now = this.clock.now();
    return batteryHoursLeft(await this.d.batteryHistory(clusterId, now - BATTERY_WINDOW_MS, now));
  }
}
