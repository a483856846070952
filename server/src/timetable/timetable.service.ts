import { BROADCAST_STATES } from '../../../schemas/api/broadcasts.ts';
import type { EntryState, NowNext, Timetable, TimetableEntry, TimetableQuery } from '../../../schemas/api/timetable.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AiringsService } from '../broadcasts/airings.service.ts';
import type { BroadcastsService } from '../broadcasts/broadcasts.service.ts';
import type { ClustersService } from '../devices/clusters.service.ts';
import type { RollupService } from '../health/rollup.service.ts';
import { instants, type Entry, type ProgrammeCatalog } from '../programmes/catalog.ts';
import type { OccurrencesRepo } from '../programmes/occurrences.repo.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import { badRequest, notFound } from '../shared/errors.ts';
import { instantOf, wallDay } from './recurrence.ts';

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 31 * DAY_MS;
const MISSED_LISTED = 50;
/** Up to this many broadcasts, their states are read one by one; beyond it, in one read of the range. */
const POINT_READS = 200;
const iso = (ms: number) => new Date(ms).toISOString();

interface Scope {
  zone: string;
  quietSpec: ReturnType<AreasService['policy']>['quiet'];
  /** the clusters the view is about */
  has: (clusterId: string) => boolean;
  size: number;
  /** the one cluster of a cluster's view */
  only?: string;
}

/**
 * The timetable of an area or a cluster: what the planner planned and how it went (from the ledger and the airing
 * log), what it will plan beyond its horizon (from the programmes), and the one-off broadcasts — planned vs aired vs
 * missed, with quiet hours and the room left before them.
 */
export class TimetableService {
  constructor(
    private catalog: ProgrammeCatalog,
    private ledger: OccurrencesRepo,
    private broadcasts: BroadcastsService,
    private airings: AiringsService,
    private areas: AreasService,
    private clusters: ClustersService,
    private rollup: RollupService,
    private clock: Clock,
  ) {}

  async query(q: TimetableQuery, actor: Actor): Promise<Timetable> {
    const scope = this.scope(q, actor);
    const now = this.clock.now();
    const from = q.from ? Date.parse(q.from) : instantOf(wallDay(now, scope.zone), 0, scope.zone);
    const to = q.to ? Date.parse(q.to) : from + 7 * DAY_MS;
    if (to <= from) throw badRequest('"to" must be after "from"', 'querystring/to');
    if (to - from > MAX_RANGE_MS) throw badRequest('at most 31 days at a time', 'querystring/to');
    const entries = (await this.entries(scope, from, to, now)).sort((a, b) => a.startAt.localeCompare(b.startAt) || a.title.localeCompare(b.title, 'vi'));
    const quiet = scope.quietSpec ? scope.quietSpec.intervals(from, to).map((i) => ({ from: iso(Math.max(i.from, from)), to: iso(Math.min(i.to, to)) })) : [];
    return { zone: scope.zone, from: iso(from), to: iso(to), entries, quiet, free: this.free(entries, scope, from, to, now) };
  }

  /** What plays now and what comes next, looking a week ahead. */
  async nowNext(q: TimetableQuery, actor: Actor): Promise<NowNext> {
    const now = this.clock.now();
    const t = await this.query({ ...q, from: iso(now - 6 * 3_600_000), to: iso(now + 7 * DAY_MS) }, actor);
    const live = (e: TimetableEntry) => !['missed', 'cancelled'].includes(e.state);
    const at = (e: TimetableEntry) => Date.parse(e.startAt);
    return {
      now: t.entries.find((e) => live(e) && at(e) <= now && Date.parse(e.endAt) > now) ?? null,
      next: t.entries.find((e) => live(e) && at(e) > now) ?? null,
    };
  }

  private scope(q: TimetableQuery, actor: Actor): Scope {
    if (q.clusterId) {
      const c = this.clusters.get(q.clusterId, actor); // 404 outside the caller's areas
      const p = this.areas.policy(c.areaId);
      return { zone: p.timeZone, quietSpec: p.quiet, has: (id) => id === q.clusterId, size: 1, only: q.clusterId };
    }
    const areaId = q.areaId ?? (actor.scope === 'all' ? null : [...actor.scope][0]);
    if (!areaId) throw badRequest('give an area or a cluster', 'querystring/areaId');
    if (!this.areas.exists(areaId) || !this.areas.inScope(actor.scope, areaId)) throw notFound('area', 'querystring/areaId');
    const ids = new Set(this.rollup.clustersUnder(areaId));
    const p = this.areas.policy(areaId);
    return { zone: p.timeZone, quietSpec: p.quiet, has: (id) => ids.has(id), size: ids.size };
  }

  private async entries(scope: Scope, from: number, to: number, now: number): Promise<TimetableEntry[]> {
    const touches = (e: Entry | null) => !!e?.targets && [...e.targets.clusters.keys()].some(scope.has);
    const out: TimetableEntry[] = [];
    const rows = (await this.ledger.between(from, to)).filter((r) => r.state !== 'superseded');
    // The catalog's versions by key, built once: catalog.entryOf scans every live and pending version on each call,
    // which made this O(rows × programmes) — seconds at 20,000 programmes. The first match wins, as in entryOf;
    // a version neither live nor pending (a superseded one's rows) is still looked up there.
    const indexed = new Map<string, Entry>();
    const { live: liveEntries, pending: pendingEntries } = await this.catalog.versions();
    for (const e of [...liveEntries, ...pendingEntries]) {
      const k = `${e.programme.id}@${e.version.version}`;
      if (!indexed.has(k)) indexed.set(k, e);
    }
    const relevant = new Map<string, Entry | null>();
    for (const r of rows) {
      const k = `${r.programmeId}@${r.version}`;
      if (!relevant.has(k)) relevant.set(k, indexed.get(k) ?? (await this.catalog.entryOf(r.programmeId, r.version)));
    }
    const entryOf = (p: string, v: number) => relevant.get(`${p}@${v}`)!;
    const mine = rows.filter((r) => touches(entryOf(r.programmeId, r.version)));
    const oneOffs = (await this.broadcasts.startingBetween(from, to, ['pending_approval', 'scheduled', 'airing', 'done', 'expired', 'cancelled'], false)).filter((b) => {
      const t = this.broadcasts.clustersOf(b);
      return !!t && [...t.clusters.keys()].some(scope.has);
    });
    const broadcastIds = [...mine.map((r) => r.broadcastId).filter((x): x is string => !!x), ...oneOffs.map((b) => b.id)];
    const outcome = await this.outcomes(broadcastIds, scope);
    // Many broadcasts (a commune's week can hold tens of thousands): their states in one read of the range rather
    // than a query each — the planner's start when their ledger rows say; any not found there is read on its own.
    const ids = [...mine.map((r) => r.broadcastId), ...oneOffs.map((b) => b.id)].filter((x): x is string => !!x);
    const inRange = ids.length > POINT_READS ? new Map((await this.broadcasts.startingBetween(from, to, BROADCAST_STATES, true)).map((b) => [b.id, b.state])) : new Map<string, string>();
    const states = new Map<string, string | null>();
    for (const id of ids) states.set(id, inRange.get(id) ?? (await this.broadcasts.stateOf(id)));
    const seen = new Set<string>();
    for (const r of mine) {
      const e = entryOf(r.programmeId, r.version)!;
      seen.add(`${r.programmeId}:${r.occurrenceAt}`);
      const o = r.broadcastId ? outcome.get(r.broadcastId) : undefined;
      const targeted = o?.targeted ?? [...e.targets!.clusters.keys()].filter(scope.has).length;
      const base = { key: `${r.programmeId}:${r.version}:${r.occurrenceAt}`, programmeId: r.programmeId, broadcastId: r.broadcastId, title: e.programme.name, colour: e.programme.colour, level: e.body.level, startAt: iso(r.startAt), endAt: iso(r.endAt) };
      if (r.state === 'missed') out.push({ ...base, state: 'missed', reason: r.reason, clusters: { targeted, aired: 0, missed: targeted }, missedBy: [], flags: [] });
      else {
        const p = this.progress(states.get(r.broadcastId ?? '') ?? 'scheduled', o, targeted, r.startAt, r.endAt, now);
        out.push({ ...base, ...p, reason: p.state === 'missed' ? sharedReason(p.missedBy) ?? r.reason : r.reason, flags: r.flag ? [r.flag] : [] });
      }
    }
    for (const b of oneOffs) {
      const o = outcome.get(b.id);
      const end = b.startAt! + (await this.broadcasts.lengthOf(b));
      const targeted = o?.targeted ?? 0;
      out.push({ key: b.id, programmeId: null, broadcastId: b.id, title: b.title, colour: null, level: b.level as TimetableEntry['level'], startAt: iso(b.startAt!), endAt: iso(end), ...this.progressWithReason(b.state, o, targeted, b.startAt!, end, now), flags: [] });
    }
    // Beyond what the planner has done: the occurrences it will plan (or would, once approved).
    const future = (e: Entry, state: EntryState, flags: string[]) => {
      if (!touches(e)) return;
      const targeted = [...e.targets!.clusters.keys()].filter(scope.has).length;
      for (const at of instants(e, Math.max(from, now), to)) {
        if (seen.has(`${e.programme.id}:${at}`)) continue;
        out.push({ key: `${e.programme.id}:${e.version.version}:${at}`, programmeId: e.programme.id, broadcastId: null, title: e.programme.name, colour: e.programme.colour, level: e.body.level, startAt: iso(at), endAt: iso(at + e.version.durationMs), state, reason: null, clusters: { targeted, aired: 0, missed: 0 }, missedBy: [], flags });
      }
    };
    const pendingOf = new Set(pendingEntries.map((e) => e.programme.id));
    const live = new Set<string>();
    for (const e of liveEntries) {
      live.add(e.programme.id);
      future(e, 'planned', pendingOf.has(e.programme.id) ? ['change_pending'] : []);
    }
    for (const e of pendingEntries) if (!live.has(e.programme.id)) future(e, 'pending_approval', []);
    return out;
  }

  private progressWithReason(state: string, o: Outcome | undefined, targeted: number, start: number, end: number, now: number) {
    const p = this.progress(state, o, targeted, start, end, now);
    return { ...p, reason: p.state === 'missed' ? sharedReason(p.missedBy) : null };
  }

  /** An entry's state from its broadcast and its clusters' airings. */
  private progress(state: string, o: Outcome | undefined, targeted: number, start: number, end: number, now: number) {
    const aired = o?.aired ?? 0;
    const missed = o?.missed ?? [];
    const clusters = { targeted, aired, missed: missed.length };
    const missedBy = missed.slice(0, MISSED_LISTED);
    let s: EntryState;
    if (state === 'pending_approval') s = 'pending_approval';
    else if (state === 'cancelled') s = 'cancelled';
    else if (state === 'done' || state === 'expired' || (targeted > 0 && aired + missed.length >= targeted)) s = aired === 0 ? 'missed' : missed.length || aired < targeted ? 'partial' : 'aired';
    else if (state === 'airing' || (start <= now && now < end)) s = 'airing';
    else s = 'scheduled';
    return { state: s, clusters, missedBy };
  }

  private async outcomes(broadcastIds: string[], scope: Scope): Promise<Map<string, Outcome>> {
    const out = new Map<string, Outcome>();
    const seen = new Map<string, Map<string, { aired: boolean; missed: string | null | undefined }>>();
    for (const a of await this.airings.outcomes(broadcastIds, scope.only)) {
      if (!scope.has(a.clusterId) || a.state === 'cancelled') continue;
      const per = seen.get(a.broadcastId) ?? new Map();
      seen.set(a.broadcastId, per);
      const cur = per.get(a.clusterId) ?? { aired: false, missed: undefined };
      if (a.state === 'finished') cur.aired = true;
      else if (a.state === 'failed' || a.state === 'skipped') cur.missed = a.reason ?? a.state;
      per.set(a.clusterId, cur);
    }
    for (const [id, per] of seen) {
      const o: Outcome = { targeted: per.size, aired: 0, missed: [] };
      for (const [clusterId, c] of per) {
        if (c.aired) o.aired++;
        else if (c.missed !== undefined) o.missed.push({ clusterId, name: this.clusters.nameOf(clusterId), reason: c.missed });
      }
      out.set(id, o);
    }
    return out;
  }

  /** Room left before each quiet-hours window: from the end of the day's last item (or the previous window, or now). */
  private free(entries: TimetableEntry[], scope: Scope, from: number, to: number, now: number) {
    if (!scope.quietSpec) return [];
    const windows = scope.quietSpec.intervals(from - DAY_MS, to);
    // parsed once, not once per window (and no spread of every entry into Math.max)
    const spans = entries.filter((e) => e.state !== 'cancelled').map((e) => [Date.parse(e.startAt), Date.parse(e.endAt)] as const);
    const out: { from: string; to: string }[] = [];
    for (let i = 1; i < windows.length; i++) {
      const start = Math.max(windows[i - 1].to, now, from);
      const end = Math.min(windows[i].from, to);
      if (end <= start) continue;
      let last = start;
      for (const [s, e] of spans) if (s < end && e > start && e > last) last = e;
      if (last < end) out.push({ from: iso(last), to: iso(end) });
    }
    return out;
  }
}

/** Why an entry nobody aired was missed, when every cluster missed it for the same reason. */
function sharedReason(missed: { reason: string | null }[]): string | null {
  const reasons = new Set(missed.map((m) => m.reason));
  return reasons.size === 1 ? [...reasons][0] : null;
}

interface Outcome {
  targeted: number;
  aired: number;
  missed: { clusterId: string; name: string; reason: string | null }[];
}

