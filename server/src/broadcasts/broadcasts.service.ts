import type { Broadcast, BroadcastQuery, CreateBroadcast, Targets } from '../../../schemas/api/broadcasts.ts';
import type { Level, PlayItem } from '../../../schemas/device-protocol/playback.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { ClustersService } from '../devices/clusters.service.ts';
import type { RollupService } from '../health/rollup.service.ts';
import type { Tx } from '../db/tx.ts';
import { systemActor, type Actor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { badRequest, conflict, forbidden, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { AiringsService, ClusterLookup } from './airings.service.ts';
import { approvalFor } from './approval.ts';
import type { BroadcastRow, BroadcastsRepo } from './broadcasts.repo.ts';
import type { Delivery } from './delivery.ts';
import { resolveTargets, targetAreas, type ResolvedTargets } from './targets.ts';
import { toBroadcast } from './broadcast-view.ts';
import { planTiming, resolveContent, type PlayableContent, type QuietRule, type Speech, type TimingInput, type TimingOptions } from './broadcast-plan.ts';
import type { QuietHours } from './quiet-hours.ts';
import type { LiveSessionInput } from '../../../schemas/api/live.ts';
import type { StreamSpec } from '../../../schemas/device-protocol/stream.ts';

/** Relay and live-microphone broadcasts: what the live capability answers for them (live/live.service.ts). */
export interface LiveLink {
  /** 404/400 unless the actor may relay this source to these areas */
  checkRelay(sourceId: string, areaIds: string[], actor: Actor): void | Promise<void>;
  spec(row: BroadcastRow): StreamSpec | Promise<StreamSpec>;
  view(row: BroadcastRow, counts: { onAir: number; underruns: number }): Broadcast['live'] | Promise<Broadcast['live']>;
  /** the broadcast is over or cancelled: a microphone stream ends with it */
  release(broadcastId: string): void;
  /** longest a live microphone broadcast may run */
  maxLiveMs: number;
}

type LiveRef = { relay: { sourceId: string; durationS: number } } | { live: { sessionId: string } };
const liveRef = (source: unknown): LiveRef | null => (source && typeof source === 'object' && ('relay' in source || 'live' in source) ? (source as LiveRef) : null);

/** Devices hold what they must air in the next 48 hours (store-and-forward). */
export const MANIFEST_WINDOW_MS = 48 * 3_600_000;
/** How long an expired broadcast still takes late proof of play (a device's buffer after an outage) into account. */
export const LATE_REPORTS_MS = MANIFEST_WINDOW_MS;
const CREATORS = new Set(['admin', 'operator', 'approver']);
/** States in which a broadcast will still need its content: awaiting approval, scheduled, on air. */
const NEEDS_CONTENT = ['pending_approval', 'scheduled', 'airing'] as const;

/** Bulletins from creation to proof of play: levels, approval, delivery, cancellation. */
export class BroadcastsService {
  constructor(
    private repo: BroadcastsRepo,
    private delivery: Delivery,
    private airings: AiringsService,
    private areas: AreasService,
    private clusters: ClustersService,
    private rollup: RollupService,
    private content: PlayableContent,
    private speech: Speech,
    private audit: AuditService,
    private bus: Bus,
    private clock: Clock,
    private opts: TimingOptions,
    /** The display name of an account (created by, approved by), null when it has none. */
    private personName: (username: string) => string | null | Promise<string | null> = () => null,
  ) {}

  private live: LiveLink | null = null;
  /**
   * One run at a time of each sweep (the timer's, the one a report triggers, start-up's): a run awaits the database
   * between reading a broadcast and moving it, and two interleaved would move it twice (two events, two deliveries).
   */
  private progressRuns = new OneAtATime<void>();
  private dueRuns = new OneAtATime<number>();

  /** Set once the live capability exists (it needs this service too). */
  useLive(link: LiveLink): void {
    this.live = link;
  }

  private liveLink(): LiveLink {
    if (!this.live) throw conflict('live audio is not available on this server');
    return this.live;
  }

  /** How long one airing lasts: a relay its slot, a live session at most its cap, a file its content. */
  private async airingMs(row: Pick<BroadcastRow, 'source' | 'contentId'>): Promise<number> {
    const ref = liveRef(row.source);
    if (ref && 'relay' in ref) return ref.relay.durationS * 1000;
    if (ref) return this.liveLink().maxLiveMs;
    return (await this.content.playable(row.contentId!)).durationMs;
  }

  /** Names and presence of clusters for the delivery summary. */
  private readonly who: ClusterLookup = {
    name: (id) => this.clusters.nameOf(id),
    online: (id) => this.clusters.online(id),
    offlineSince: (id) => this.clusters.offlineSince(id),
  };

  async create(input: CreateBroadcast, actor: Actor): Promise<Broadcast> {
    if (!CREATORS.has(actor.role) && actor.role !== 'system') throw forbidden('only operators, approvers and admins create broadcasts');
    const targets = resolveTargets(input.targets, actor, this.areas, this.clusters, this.rollup);
    const now = this.clock.now();
    const requested = input.startAt ? Date.parse(input.startAt) : null;
    if (requested !== null && input.expiresAt && Date.parse(input.expiresAt) <= requested) throw badRequest('expiresAt must be after startAt', 'body/expiresAt');
    const relay = 'relay' in input.source ? input.source.relay : null;
    if (relay) await this.liveLink().checkRelay(relay.sourceId, targets.areaIds, actor);
    if (relay && input.repeat && input.repeat.count > 1) throw badRequest('a relay airs once; schedule a programme to relay it again', 'body/repeat');
    const contentId = relay ? null : await resolveContent(input.source, input.title, actor, this.content, this.speech, targets.areaIds);
    const approval = approvalFor(actor, input.level, targets.areaIds, this.areas);
    const row: BroadcastRow = {
      id: newId('bc'),
      title: input.title,
      level: input.level,
      state: approval === 'pending' ? 'pending_approval' : 'scheduled',
      source: input.source,
      targets: input.targets,
      contentId,
      startAt: requested,
      expiresAt: input.expiresAt ? Date.parse(input.expiresAt) : null,
      volume: input.volume ?? null,
      repeatCount: input.repeat?.count ?? 1,
      repeatIntervalS: input.repeat?.intervalS ?? 0,
      onPreempt: input.onPreempt ?? 'resume',
      priorityOrder: input.order ?? null,
      maxWaitS: input.maxWaitS ?? null,
      createdBy: actor.name,
      createdAt: now,
      approvedBy: approval === 'pending' ? null : actor.name,
      approvedAt: approval === 'pending' ? null : now,
      rejectReason: null,
      cancelledBy: null,
      cancelledAt: null,
      programmeId: null,
    };
    // Refuse now rather than leave a broadcast that can never air; a start moved out of quiet hours is the one kept.
    const planned = await this.timing(row, targets, input.onQuietHours);
    if (planned.moved) row.startAt = planned.startAt;
    await this.repo.insert(row);
    await this.audit.record(actor, 'broadcast.create', { type: 'broadcast', id: row.id }, { title: row.title, level: row.level, targets: input.targets, state: row.state });
    if (approval === 'bypassed') await this.audit.record(actor, 'broadcast.approval_bypassed', { type: 'broadcast', id: row.id }, { level: row.level });
    const delivered = row.state === 'scheduled' ? await this.schedule(row, targets) : 0;
    if (row.state === 'pending_approval') this.bus.emit('broadcast.changed', { broadcastId: row.id, state: row.state, cause: 'submitted', by: actor.name, byName: await this.personName(actor.name), createdBy: row.createdBy });
    return this.answer((await this.repo.get(row.id))!, row.state === 'pending_approval' ? targets.clusters.size : delivered);
  }

  /** Quiet hours are those of the area of every targeted cluster: a broadcast over several communes keeps to each. */
  private async timing(row: TimingInput & Pick<BroadcastRow, 'source'>, targets: ResolvedTargets, onQuietHours?: QuietRule['onQuietHours']) {
    const quiet = new Map<string, QuietHours>();
    for (const areaId of targets.areaIds) {
      const q = this.areas.policy(areaId).quiet;
      if (q) quiet.set(q.label, q);
    }
    return planTiming(row, { durationMs: await this.airingMs(row) }, this.clock.now(), this.opts, { quiet: [...quiet.values()], onQuietHours });
  }

  /**
   * Fixes the times and sends the play order — once the first airing is within the devices' 48-hour manifest
   * window; `deliverDue()` sends the later ones as they come into it. Returns how many clusters it went to.
   */
  private async schedule(row: BroadcastRow, targets: ResolvedTargets): Promise<number> {
    const { startAt, expiresAt } = await this.timing(row, targets);
    await this.repo.update(row.id, { startAt, expiresAt });
    if (startAt > this.clock.now() + MANIFEST_WINDOW_MS) return 0;
    await this.deliver({ ...row, startAt, expiresAt }, targets);
    return targets.clusters.size;
  }

  /** Sends the play order with the times already fixed: a re-delivery must not move an airing devices may hold. */
  private async deliver(row: BroadcastRow, targets: ResolvedTargets): Promise<void> {
    const live = liveRef(row.source) ? await this.liveLink().spec(row) : null;
    const c = live ? null : await this.content.playable(row.contentId!);
    const item: PlayItem = {
      id: row.id,
      broadcastId: row.id,
      title: row.title,
      level: row.level as Level,
      ...(c ? { content: { sha256: c.sha256, size: c.size, durationMs: c.durationMs } } : { stream: live! }),
      startAt: row.startAt!,
      expiresAt: row.expiresAt!,
      volume: row.volume,
      outputs: null,
      repeat: { count: row.repeatCount, intervalS: row.repeatIntervalS },
      onPreempt: row.onPreempt as PlayItem['onPreempt'],
      ...(row.priorityOrder !== null ? { order: row.priorityOrder } : {}),
      ...(row.maxWaitS !== null ? { maxWaitS: row.maxWaitS } : {}),
    };
    this.delivery.deliver(item, targets);
    this.bus.emit('broadcast.changed', { broadcastId: row.id, state: 'scheduled' });
  }

  private async load(id: string, actor: Actor): Promise<BroadcastRow> {
    const row = await this.repo.get(id);
    if (!row || !this.visible(row, actor)) throw notFound('broadcast', 'params/id');
    return row;
  }

  private visible(row: BroadcastRow, actor: Actor): boolean {
    return actor.scope === 'all' || targetAreas(row.targets as Targets, this.clusters).some((a) => this.areas.inScope(actor.scope, a));
  }

  private retarget(row: BroadcastRow): ResolvedTargets {
    return resolveTargets(row.targets as Targets, systemActor(), this.areas, this.clusters, this.rollup);
  }

  async approve(id: string, actor: Actor): Promise<Broadcast> {
    const row = await this.load(id, actor);
    if (row.state !== 'pending_approval') throw conflict(`broadcast is ${row.state}, not pending approval`);
    const targets = this.retarget(row);
    await this.timing(row, targets);
    await this.repo.update(id, { state: 'scheduled', approvedBy: actor.name, approvedAt: this.clock.now() });
    await this.audit.record(actor, 'broadcast.approve', { type: 'broadcast', id });
    const delivered = await this.schedule({ ...row, state: 'scheduled' }, targets);
    this.bus.emit('broadcast.changed', { broadcastId: id, state: 'scheduled', cause: 'approved', by: actor.name, byName: await this.personName(actor.name), createdBy: row.createdBy });
    return this.answer((await this.repo.get(id))!, delivered);
  }

  async reject(id: string, reason: string, actor: Actor): Promise<Broadcast> {
    const row = await this.load(id, actor);
    if (row.state !== 'pending_approval') throw conflict(`broadcast is ${row.state}, not pending approval`);
    await this.repo.update(id, { state: 'rejected', rejectReason: reason });
    await this.audit.record(actor, 'broadcast.reject', { type: 'broadcast', id }, { reason });
    this.bus.emit('broadcast.changed', { broadcastId: id, state: 'rejected', cause: 'rejected', by: actor.name, byName: await this.personName(actor.name), createdBy: row.createdBy });
    return this.view((await this.repo.get(id))!);
  }

  async cancel(id: string, actor: Actor): Promise<Broadcast> {
    const row = await this.load(id, actor);
    if (!['pending_approval', 'scheduled', 'airing'].includes(row.state)) throw conflict(`broadcast is ${row.state} and cannot be cancelled`);
    await this.repo.update(id, { state: 'cancelled', cancelledBy: actor.name, cancelledAt: this.clock.now() });
    await this.audit.record(actor, 'broadcast.cancel', { type: 'broadcast', id });
    if (row.state !== 'pending_approval') await this.delivery.cancel(id, this.retarget(row));
    if (liveRef(row.source)) this.live?.release(id);
    this.bus.emit('broadcast.changed', { broadcastId: id, state: 'cancelled' });
    return this.view((await this.repo.get(id))!);
  }

  /** Broadcasts not yet over that air this content item (whoever may see them: a deletion must not break any). */
  async usingContent(contentId: string): Promise<{ broadcastId: string; title: string; state: string }[]> {
    return (await this.repo.withContent(contentId, NEEDS_CONTENT)).map((r) => ({ broadcastId: r.id, title: r.title, state: r.state }));
  }

  /** When each content item last went on air (the recordings library). */
  lastAired(contentIds: string[]): Promise<Map<string, number>> {
    return this.repo.lastAiredByContent(contentIds);
  }

  async get(id: string, actor: Actor): Promise<Broadcast> {
    return this.view(await this.load(id, actor));
  }

  async list(q: BroadcastQuery, actor: Actor): Promise<Broadcast[]> {
    const rows = await this.repo.list({ state: q.state, level: q.level, from: q.from ? Date.parse(q.from) : undefined, to: q.to ? Date.parse(q.to) : undefined }, 1000, 0);
    const inArea = q.areaId ? this.areas.descendants(q.areaId) : null;
    const page = rows
      .filter((r) => this.visible(r, actor))
      .filter((r) => !inArea || targetAreas(r.targets as Targets, this.clusters).some((a) => inArea.has(a)))
      .slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 50));
    const out: Broadcast[] = [];
    for (const r of page) out.push(await this.view(r));
    return out;
  }


  /**
   * Sends scheduled broadcasts whose first airing has come within the manifest window, and — run at start-up —
   * completes any delivery a crash cut short: a broadcast that is scheduled but has no airing log had its bookkeeping
   * lost (Delivery writes the log last). Its group publish is repeated: devices that have the item already keep it.
   */
  deliverDue(): Promise<number> {
    return this.dueRuns.run(() => this.deliverDueOnce());
  }

  private async deliverDueOnce(): Promise<number> {
    const now = this.clock.now();
    const horizon = now + MANIFEST_WINDOW_MS;
    let n = 0;
    for (const row of await this.repo.inStates(['scheduled'])) {
      if (row.startAt === null || row.startAt > horizon || (row.expiresAt !== null && row.expiresAt <= now) || (await this.airings.planned(row.id))) continue;
      let targets: ResolvedTargets;
      try {
        targets = this.retarget(row);
      } catch {
        continue; // every targeted cluster was removed since: nothing to deliver to, progress() expires it
      }
      await this.deliver(row, targets);
      n++;
    }
    return n;
  }

  /**
   * Moves broadcasts along as airings report: scheduled → airing → done | expired. One rule whichever comes first,
   * the expiry or the last report: `done` when every targeted cluster finished every airing, `expired` when the
   * broadcast expired with something not aired. At expiry the airings never reported over are closed with a reason
   * (AiringsService.closeExpired), so they count as failed. An expired broadcast is looked at again for
   * `LATE_REPORTS_MS`: a device's buffered reports after an outage can still show it all aired, and then it is done.
   */
  progress(): Promise<void> {
    return this.progressRuns.run(() => this.progressOnce());
  }

  private async progressOnce(): Promise<void> {
    const now = this.clock.now();
    const rows = [...(await this.repo.inStates(['scheduled', 'airing'])), ...(await this.repo.expiredSince(now - LATE_REPORTS_MS))];
    for (const row of rows) {
      const past = row.expiresAt !== null && now > row.expiresAt;
      if (row.state === 'expired') {
        // Already closed at expiry; only an airing still running then has to be closed later on.
        const runOn = await this.runOn(row);
        if (now <= row.expiresAt! + runOn + 600_000) await this.airings.closeExpired(row.id, (id) => this.clusters.online(id), now > row.expiresAt! + runOn);
        if (!(await this.airings.allFinished(row.id))) continue; // stays expired unless every airing turns out finished
      } else if (past) await this.airings.closeExpired(row.id, (id) => this.clusters.online(id), now > row.expiresAt! + (await this.runOn(row)));
      let n = await this.airings.counts(row.id);
      // Done when every reachable cluster is: the airings left open only for clusters offline past their time are
      // closed as not received (or lost mid-airing), rather than holding the broadcast "on air" until it expires.
      if (!past && row.state !== 'expired' && n.total > n.over && now > (await this.lastAiringEnd(row))) {
        if ((await this.airings.closeUnreachable(row.id, (id) => this.clusters.online(id), (await this.runOn(row)) - 60_000)) > 0) n = await this.airings.counts(row.id);
      }
      const allFinished = n.total > 0 && n.finished === n.total;
      const allOver = n.total > 0 && n.over === n.total;
      let next = row.state;
      if (allFinished) next = 'done';
      else if (allOver && !past && row.state !== 'expired' && n.finished > 0) next = 'done';
      else if (past || allOver) next = 'expired';
      else if (n.started > 0) next = 'airing';
      // Only from the state it was read in: a cancellation while this run awaited the database stands.
      if (next !== row.state && (await this.repo.moveState(row.id, row.state, next))) {
        if ((next === 'done' || next === 'expired') && liveRef(row.source)) this.live?.release(row.id);
        this.bus.emit('broadcast.changed', { broadcastId: row.id, state: next });
      }
    }
  }

  /**
   * When its last airing should be over (start, repeats, length): before then nothing is left open for want of a
   * cluster, and a province's scheduled broadcast is not read airing by airing on every progress tick.
   */
  private async lastAiringEnd(row: BroadcastRow): Promise<number> {
    if (row.startAt === null) return Infinity;
    const durationMs = (await this.runOn(row)) - 60_000;
    return row.startAt + (row.repeatCount - 1) * Math.max(row.repeatIntervalS * 1000, durationMs) + durationMs;
  }

  /** How long after its expiry an airing that started may still be running: the programme's length and a minute. */
  private async runOn(row: BroadcastRow): Promise<number> {
    try {
      return (await this.airingMs(row)) + 60_000;
    } catch {
      return 60_000;
    }
  }

  private async view(r: BroadcastRow): Promise<Broadcast> {
    const over = !['scheduled', 'airing'].includes(r.state);
    let summary = await this.airings.summary(r.id, this.who, over);
    if (r.state === 'pending_approval' || (r.state === 'scheduled' && summary.targeted === 0)) summary = { ...summary, targeted: this.reachOf(r) };
    // Audio still being fetched before the start is how it should be; after the start it is why a cluster is silent.
    if (r.startAt === null || r.startAt > this.clock.now()) summary = { ...summary, waiting: summary.waiting.filter((w) => w.reason !== 'not_downloaded') };
    const b = await this.decorate(toBroadcast(r, summary));
    return liveRef(r.source) && this.live ? { ...b, live: await this.live.view(r, await this.airings.liveCounts(r.id)) } : b;
  }

  /** How many clusters it would go to now (awaiting approval, or beyond the manifest window): nothing is planned yet. */
  private reachOf(r: BroadcastRow): number {
    try {
      return this.retarget(r).clusters.size;
    } catch {
      return 0; // every targeted cluster was removed since
    }
  }

  /** People's and places' names, so nobody reads a login or an id. */
  private async decorate(b: Broadcast): Promise<Broadcast> {
    const t = b.targets;
    const places = [...(t.areaIds ?? []).map((id) => this.areas.nameOf(id)), ...[...(t.clusterIds ?? []), ...(t.outputs ?? []).map((o) => o.clusterId)].map((id) => this.clusters.nameOf(id))];
    return {
      ...b,
      createdByName: b.createdBy ? await this.personName(b.createdBy) : null,
      approvedByName: b.approvedBy ? await this.personName(b.approvedBy) : null,
      reach: { clusters: b.delivery.targeted, places: [...new Set(places)].slice(0, 20) },
    };
  }

  /**
   * The answer to a create or an approval, given before the airing log is written (Delivery's backlog): reading it
   * would write it on the request path. Nothing has been reported yet, so the summary is the targeted count alone.
   */
  private answer(r: BroadcastRow, targeted: number): Promise<Broadcast> {
    return this.decorate(toBroadcast(r, { targeted, received: 0, downloaded: 0, started: 0, finished: 0, failed: 0, notReceived: targeted, startDelayMs: { median: null, max: null }, failures: [], waiting: [] }));
  }

  /**
   * A programme's occurrence made into a broadcast by the planner: written in one transaction with the planner's
   * ledger row (`alongside`, given that transaction: it must pass it to every repository call it makes), so a crash
   * leaves both or neither, then delivered like any scheduled broadcast (a delivery a crash cut short is completed
   * by deliverDue at start-up). Approval happened on the programme.
   */
  async planned(p: PlannedAiring, alongside: (tx: Tx) => Promise<void>): Promise<void> {
    const lengthMs = p.relay ? p.relay.durationS * 1000 : (await this.content.playable(p.contentId!)).durationMs;
    const now = this.clock.now();
    const row: BroadcastRow = {
      id: p.id,
      title: p.title,
      level: p.level,
      state: 'scheduled',
      source: p.relay ? { relay: p.relay, programme: { id: p.programmeId, version: p.version } } : { programme: { id: p.programmeId, version: p.version } },
      targets: p.targets,
      contentId: p.contentId,
      startAt: p.startAt,
      expiresAt: p.startAt + lengthMs + this.opts.graceMs,
      volume: p.volume,
      repeatCount: 1,
      repeatIntervalS: 0,
      onPreempt: 'resume',
      priorityOrder: null,
      maxWaitS: null,
      createdBy: p.createdBy,
      createdAt: now,
      approvedBy: p.approvedBy,
      approvedAt: p.approvedAt,
      rejectReason: null,
      cancelledBy: null,
      cancelledAt: null,
      programmeId: p.programmeId,
    };
    await this.repo.transaction(async (tx) => {
      await this.repo.insert(row, tx);
      await alongside(tx);
    });
    if (row.startAt! <= now + MANIFEST_WINDOW_MS) await this.deliver(row, p.resolved);
  }

  /**
   * A live microphone broadcast, created when the officer presses "Bắt đầu phát": open-ended (until the session
   * ends, at most maxLiveMs), airing at once at its level. It cannot wait for approval — nobody can review what is
   * not yet said — so going live needs the right to broadcast in those areas without approval.
   */
  async createLive(input: LiveSessionInput, sessionId: string, actor: Actor): Promise<Broadcast> {
    if (!CREATORS.has(actor.role)) throw forbidden('only operators, approvers and admins go live');
    const targets = resolveTargets(input.targets, actor, this.areas, this.clusters, this.rollup);
    const approval = approvalFor(actor, input.level, targets.areaIds, this.areas);
    if (approval === 'pending') throw forbidden('going live here needs approval rights: these areas approve every broadcast of yours first');
    const now = this.clock.now();
    const row: BroadcastRow = {
      id: newId('bc'),
      title: input.title ?? 'Phát trực tiếp',
      level: input.level,
      state: 'scheduled',
      source: { live: { sessionId } },
      targets: input.targets,
      contentId: null,
      // Long enough for the order to reach the commune; the voice is heard from the stream's live position on.
      startAt: now + Math.min(this.opts.syncLeadMs, 1500),
      expiresAt: null,
      volume: input.volume ?? null,
      repeatCount: 1,
      repeatIntervalS: 0,
      onPreempt: 'resume',
      priorityOrder: null,
      maxWaitS: input.level === 'priority' ? 0 : null,
      createdBy: actor.name,
      createdAt: now,
      approvedBy: actor.name,
      approvedAt: now,
      rejectReason: null,
      cancelledBy: null,
      cancelledAt: null,
      programmeId: null,
    };
    const planned = await this.timing(row, targets);
    row.startAt = planned.startAt;
    row.expiresAt = planned.expiresAt;
    await this.repo.insert(row);
    await this.audit.record(actor, 'broadcast.live', { type: 'broadcast', id: row.id }, { level: row.level, targets: input.targets });
    if (approval === 'bypassed') await this.audit.record(actor, 'broadcast.approval_bypassed', { type: 'broadcast', id: row.id }, { level: row.level });
    await this.deliver(row, targets);
    return this.answer((await this.repo.get(row.id))!, targets.clusters.size);
  }

  /** The live session ended: the broadcast closes once its clusters report the end (or a short grace passes). */
  async endLive(id: string): Promise<void> {
    const row = await this.repo.get(id);
    if (!row || !['scheduled', 'airing'].includes(row.state)) return;
    await this.repo.update(id, { expiresAt: Math.min(row.expiresAt ?? Infinity, this.clock.now() + 30_000) });
  }

  /** Withdraws a planned airing (its programme changed or was deleted): devices get the removal as a manifest delta. */
  async withdraw(id: string, by: string): Promise<void> {
    const row = await this.repo.get(id);
    if (!row) return;
    if (!['scheduled', 'airing', 'cancelled'].includes(row.state)) return;
    // Even when already cancelled: a crash after the state change may have left the item in manifests.
    if (row.state !== 'cancelled') await this.repo.update(id, { state: 'cancelled', cancelledBy: by, cancelledAt: this.clock.now() });
    try {
      await this.delivery.cancel(id, this.retarget(row));
    } catch {
      await this.airings.cancelOpen(id); // every targeted cluster was removed since: nothing holds it
    }
    this.bus.emit('broadcast.changed', { broadcastId: id, state: 'cancelled' });
  }

  /** Broadcasts starting within [from, to) in the given states; `programmes` false leaves out the planner's. */
  startingBetween(from: number, to: number, states: readonly string[], programmes: boolean): Promise<BroadcastRow[]> {
    return this.repo.startingBetween(from, to, states, programmes);
  }

  /** A broadcast's state, or null when there is none with this id. */
  async stateOf(id: string): Promise<string | null> {
    return (await this.repo.get(id))?.state ?? null;
  }

  /** How long a stored broadcast takes on air, repeats included. */
  async lengthOf(row: BroadcastRow): Promise<number> {
    return row.startAt === null ? 0 : (await this.lastAiringEnd(row)) - row.startAt;
  }

  /** The clusters a stored broadcast goes to now, or null when none is left. */
  clustersOf(row: BroadcastRow): ResolvedTargets | null {
    try {
      return this.retarget(row);
    } catch {
      return null;
    }
  }
}

/** What the planner hands over for one occurrence. */
export interface PlannedAiring {
  id: string;
  programmeId: string;
  version: number;
  title: string;
  level: 'normal' | 'priority';
  targets: Targets;
  resolved: ResolvedTargets;
  /** null for a relay programme */
  contentId: string | null;
  relay?: { sourceId: string; durationS: number };
  startAt: number;
  volume: number | null;
  createdBy: string | null;
  approvedBy: string | null;
  approvedAt: number | null;
}

/**
 * Runs `fn` alone: a call while a run is under way waits for it and then makes one more run, shared by every call
 * that came meanwhile (each of them sees the world after its own call).
 */
class OneAtATime<T> {
  private running: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  run(fn: () => Promise<T>): Promise<T> {
    if (!this.running) {
      this.running = fn().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    return (this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        return this.run(fn);
      }));
  }
}
