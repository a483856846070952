import type { Preview, Problem, Programme, ProgrammeInput, ProgrammeItem, ProgrammeQuery } from '../../../schemas/api/programmes.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { approvalFor } from '../broadcasts/approval.ts';
import { resolveContent, type PlayableContent, type Speech } from '../broadcasts/broadcast-plan.ts';
import type { ResolvedTargets } from '../broadcasts/targets.ts';
import type { Actor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { checkSchedule, occurrences } from '../timetable/recurrence.ts';
import type { ProgrammeCatalog } from './catalog.ts';
import type { ProgrammeChecks } from './checks.ts';
import { occurrenceView, stateOf, versionView } from './programme-view.ts';
import type { ProgrammeRow, ProgrammesRepo, VersionRow } from './programmes.repo.ts';

const CREATORS = new Set(['admin', 'operator', 'approver']);
const COLOURS = ['#1e88e5', '#43a047', '#fb8c00', '#8e24aa', '#00897b', '#e53935', '#6d4c41', '#3949ab'];
const YEAR_MS = 366 * 86_400_000;

interface Resolved {
  contentId: string | null;
  durationMs: number;
  targets: ResolvedTargets;
}

/**
 * Programmes from the editor to the planner: saved as versions, approved as broadcasts are (per the area's policy),
 * checked before saving against quiet hours, session caps and clashes. An approved version is never edited: a change
 * is a new version that waits for approval while the approved one keeps airing.
 */
export class ProgrammesService {
  constructor(
    private repo: ProgrammesRepo,
    private catalog: ProgrammeCatalog,
    private checks: ProgrammeChecks,
    private areas: AreasService,
    private resolveTargets: (body: ProgrammeInput, actor: Actor) => ResolvedTargets,
    private content: PlayableContent,
    private speech: Speech,
    private audit: AuditService,
    private bus: Bus,
    private clock: Clock,
    /** a person's display name (from the accounts, which may read the database) */
    private personName: (username: string) => string | null | Promise<string | null> = () => null,
  ) {}

  /**
   * Relay items: 404/400 unless the source may be relayed to these areas (set once the live capability exists).
   * Throws, or rejects: what it returns is awaited.
   */
  private relayCheck: ((sourceId: string, areaIds: string[], actor: Actor) => unknown) | null = null;

  useRelays(check: (sourceId: string, areaIds: string[], actor: Actor) => unknown): void {
    this.relayCheck = check;
  }

  async preview(input: ProgrammeInput, actor: Actor, programmeId: string | null = null): Promise<Preview> {
    this.mayCreate(actor);
    const r = await this.resolve(input, actor);
    const now = this.clock.now();
    return { durationMs: r.durationMs, clusters: r.targets.clusters.size, next: this.next(input, now), problems: await this.checks.problems({ programmeId, body: input, durationMs: r.durationMs, targets: r.targets }, now) };
  }

  async create(input: ProgrammeInput, actor: Actor): Promise<Programme> {
    this.mayCreate(actor);
    const r = await this.resolve(input, actor);
    await this.refuseProblems(null, input, r);
    const id = newId('pg');
    const now = this.clock.now();
    const approval = approvalFor(actor, input.level, r.targets.areaIds, this.areas);
    const colour = input.colour ?? COLOURS[(await this.repo.current()).length % COLOURS.length];
    await this.repo.transaction(async (tx) => {
      await this.repo.insert({ id, name: input.name, areaId: input.areaId, colour, liveVersion: approval === 'pending' ? null : 1, pendingVersion: approval === 'pending' ? 1 : null, latestVersion: 1, createdBy: actor.name, createdAt: now }, tx);
      await this.repo.insertVersion(this.versionRow(id, 1, input, r, actor, approval === 'pending' ? null : now), tx);
    });
    await this.audit.record(actor, 'programme.create', { type: 'programme', id }, { name: input.name, state: approval });
    await this.changed(id, approval === 'pending' ? 'submitted' : 'saved', actor);
    return this.get(id, actor);
  }

  async update(id: string, input: ProgrammeInput, actor: Actor): Promise<Programme> {
    this.mayCreate(actor);
    const p = await this.load(id, actor);
    if (p.deletedAt !== null) throw conflict('the programme was deleted');
    const r = await this.resolve(input, actor);
    await this.refuseProblems(id, input, r);
    const now = this.clock.now();
    const approval = approvalFor(actor, input.level, r.targets.areaIds, this.areas);
    const v = p.latestVersion + 1;
    await this.repo.transaction(async (tx) => {
      // A change waiting for approval replaces an earlier one that waited; the live version airs meanwhile.
      if (p.pendingVersion !== null) await this.repo.updateVersion(id, p.pendingVersion, { state: 'withdrawn' }, tx);
      if (approval !== 'pending' && p.liveVersion !== null) await this.repo.updateVersion(id, p.liveVersion, { state: 'superseded' }, tx);
      await this.repo.insertVersion(this.versionRow(id, v, input, r, actor, approval === 'pending' ? null : now), tx);
      await this.repo.update(id, { name: input.name, areaId: input.areaId, colour: input.colour ?? p.colour, latestVersion: v, ...(approval === 'pending' ? { pendingVersion: v } : { liveVersion: v, pendingVersion: null }) }, tx);
    });
    await this.audit.record(actor, 'programme.update', { type: 'programme', id }, { version: v, state: approval });
    await this.changed(id, approval === 'pending' ? 'submitted' : 'saved', actor);
    return this.get(id, actor);
  }

  async approve(id: string, actor: Actor): Promise<Programme> {
    const p = await this.load(id, actor);
    if (p.pendingVersion === null || p.deletedAt !== null) throw conflict('nothing of this programme awaits approval');
    const v = (await this.repo.version(id, p.pendingVersion))!;
    const now = this.clock.now();
    await this.repo.transaction(async (tx) => {
      if (p.liveVersion !== null) await this.repo.updateVersion(id, p.liveVersion, { state: 'superseded' }, tx);
      await this.repo.updateVersion(id, v.version, { state: 'approved', approvedBy: actor.name, approvedAt: now }, tx);
      await this.repo.update(id, { liveVersion: v.version, pendingVersion: null }, tx);
    });
    await this.audit.record(actor, 'programme.approve', { type: 'programme', id }, { version: v.version });
    await this.changed(id, 'approved', actor);
    return this.get(id, actor);
  }

  async reject(id: string, reason: string, actor: Actor): Promise<Programme> {
    const p = await this.load(id, actor);
    if (p.pendingVersion === null || p.deletedAt !== null) throw conflict('nothing of this programme awaits approval');
    await this.repo.transaction(async (tx) => {
      await this.repo.updateVersion(id, p.pendingVersion!, { state: 'rejected', rejectReason: reason }, tx);
      await this.repo.update(id, { pendingVersion: null }, tx);
    });
    await this.audit.record(actor, 'programme.reject', { type: 'programme', id }, { version: p.pendingVersion, reason });
    await this.changed(id, 'rejected', actor);
    return this.get(id, actor);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    this.mayCreate(actor);
    const p = await this.load(id, actor);
    if (p.deletedAt !== null) return;
    await this.repo.update(id, { deletedAt: this.clock.now(), deletedBy: actor.name });
    await this.audit.record(actor, 'programme.delete', { type: 'programme', id });
    await this.changed(id, 'deleted', actor);
  }

  /** Programmes whose approved or waiting version airs this content item: it must not be deleted. */
  /** Programmes that relay this source (an airing or waiting version). */
  relaying(sourceId: string): Promise<string[]> {
    return this.repo.relaying(sourceId);
  }

  async usingContent(contentId: string): Promise<{ broadcastId: string; title: string; state: string }[]> {
    const hit = (await this.repo.contentInUse()).get(contentId);
    return hit ? [{ broadcastId: hit.programmeId, title: hit.name, state: 'programme' }] : [];
  }

  async get(id: string, actor: Actor): Promise<Programme> {
    return this.view(await this.load(id, actor));
  }

  async list(q: ProgrammeQuery, actor: Actor): Promise<Programme[]> {
    const under = q.areaId ? this.areas.descendants(q.areaId) : null;
    const views: Programme[] = [];
    for (const p of await this.repo.current()) if (this.areas.inScope(actor.scope, p.areaId) && (!under || under.has(p.areaId))) views.push(await this.view(p));
    return views
      .filter((p) => !q.state || p.state === q.state)
      .sort((a, b) => (a.next[0]?.at ?? '9').localeCompare(b.next[0]?.at ?? '9') || a.name.localeCompare(b.name, 'vi'));
  }

  private async view(p: ProgrammeRow): Promise<Programme> {
    const live = p.liveVersion !== null ? await this.repo.version(p.id, p.liveVersion) : null;
    const pending = p.pendingVersion !== null ? await this.repo.version(p.id, p.pendingVersion) : null;
    const shown = live ?? pending;
    const latest = await this.repo.version(p.id, p.latestVersion);
    const names = new Map<string, string | null>();
    for (const v of [live, pending, latest]) {
      for (const u of [v?.createdBy, v?.approvedBy]) if (u && !names.has(u)) names.set(u, await this.personName(u));
    }
    const name = (u: string) => names.get(u) ?? null;
    return {
      id: p.id,
      name: p.name,
      areaId: p.areaId,
      areaName: this.areas.nameOf(p.areaId),
      colour: p.colour,
      state: stateOf(p, live, pending),
      live: live ? versionView(live, name) : null,
      pending: pending ? versionView(pending, name) : null,
      rejected: latest?.state === 'rejected' ? versionView(latest, name) : null,
      next: shown && p.deletedAt === null ? this.next(shown.body as ProgrammeInput, this.clock.now()) : [],
      createdAt: new Date(p.createdAt).toISOString(),
    };
  }

  /** The next ten occurrences, with the lunar date beside each. */
  private next(body: ProgrammeInput, now: number) {
    const zone = this.areas.policy(body.areaId).timeZone;
    return occurrences(body.schedule, now, now + YEAR_MS, zone)
      .slice(0, 10)
      .map((at) => occurrenceView(at, zone));
  }

  private versionRow(id: string, version: number, input: ProgrammeInput, r: Resolved, actor: Actor, approvedAt: number | null): VersionRow {
    return {
      programmeId: id,
      version,
      state: approvedAt === null ? 'pending_approval' : 'approved',
      body: input,
      contentId: r.contentId,
      durationMs: r.durationMs,
      createdBy: actor.name,
      createdAt: this.clock.now(),
      approvedBy: approvedAt === null ? null : actor.name,
      approvedAt,
      rejectReason: null,
    };
  }

  /** A save with a problem the operator has not chosen how to resolve is refused, naming it. */
  private async refuseProblems(id: string | null, input: ProgrammeInput, r: Resolved): Promise<void> {
    const problems = await this.checks.problems({ programmeId: id, body: input, durationMs: r.durationMs, targets: r.targets }, this.clock.now());
    const blocking = (p: Problem) => (p.kind === 'quiet_hours' ? input.onQuietHours !== 'move' : p.kind === 'session_cap' ? true : (input.onClash ?? 'refuse') === 'refuse');
    const bad = problems.filter(blocking);
    if (!bad.length) return;
    const status = bad.some((p) => p.kind !== 'conflict') ? 400 : 409;
    throw new AppError(status, bad[0].message, bad[0].field, bad);
  }

  /** Checks the body and makes its items one ready programme of audio. */
  private async resolve(input: ProgrammeInput, actor: Actor): Promise<Resolved> {
    if (!this.areas.exists(input.areaId) || !this.areas.inScope(actor.scope, input.areaId)) throw badRequest(`area ${input.areaId} does not exist`, 'body/areaId');
    checkSchedule(input.schedule);
    const targets = this.resolveTargets(input, actor);
    const relay = input.items.findIndex((i) => i.type === 'relay');
    if (relay >= 0) {
      const item = input.items[relay] as Extract<ProgrammeItem, { type: 'relay' }>;
      // A relay is live: it cannot be joined with files into one stored programme.
      if (input.items.length > 1) throw badRequest('a relay must be the only item of its programme', `body/items/${relay}`);
      if (!this.relayCheck) throw badRequest('live relays are not available on this server', 'body/items/0');
      try {
        await this.relayCheck(item.sourceId, targets.areaIds, actor);
      } catch (e) {
        if (e instanceof AppError) throw new AppError(e.statusCode, `item 1: ${e.message}`, 'body/items/0');
        throw e;
      }
      return { contentId: null, durationMs: item.durationS * 1000, targets };
    }
    const ids: string[] = [];
    for (const [i, item] of input.items.entries()) {
      try {
        for (const source of sourcesOf(item)) ids.push(await resolveContent(source, input.name, actor, this.content, this.speech, targets.areaIds));
      } catch (e) {
        if (e instanceof AppError) throw new AppError(e.statusCode, `item ${i + 1}: ${e.message}`, `body/items/${i}`);
        throw e;
      }
    }
    const contentId = ids.length === 1 ? ids[0] : (await this.content.join(ids, actor, input.name)).id;
    return { contentId, durationMs: (await this.content.playable(contentId)).durationMs, targets };
  }

  private async load(id: string, actor: Actor): Promise<ProgrammeRow> {
    const p = await this.repo.get(id);
    if (!p || !this.areas.inScope(actor.scope, p.areaId)) throw notFound('programme', 'params/id');
    return p;
  }

  private mayCreate(actor: Actor): void {
    if (!CREATORS.has(actor.role) && actor.role !== 'system') throw forbidden('only operators, approvers and admins make programmes');
  }

  private async changed(programmeId: string, change: 'submitted' | 'approved' | 'rejected' | 'deleted' | 'saved', actor: Actor): Promise<void> {
    this.catalog.invalidate();
    const p = await this.repo.get(programmeId);
    const byName = await this.personName(actor.name);
    this.bus.emit('programme.changed', { programmeId, areaId: p?.areaId ?? '', name: p?.name ?? '', change, by: actor.name, byName, createdBy: p?.createdBy ?? null });
  }
}

/** An item as the broadcast sources the content service already knows how to make ready. */
function sourcesOf(item: ProgrammeItem) {
  if (item.type === 'content') return [{ contentId: item.contentId }];
  if (item.type === 'playlist') return item.contentIds.map((contentId) => ({ contentId }));
  if (item.type === 'relay') return [];
  const { type: _type, ...tts } = item;
  return [{ tts }];
}
