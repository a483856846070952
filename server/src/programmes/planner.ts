import { createHash } from 'node:crypto';
import type { BroadcastsService } from '../broadcasts/broadcasts.service.ts';
import type { Tx } from '../db/tx.ts';
import type { Clock } from '../shared/clock.ts';
import { instants, type Entry, type ProgrammeCatalog } from './catalog.ts';
import { BusyMap, type Busy } from './busy.ts';
import type { OccurrenceRow, OccurrencesRepo } from './occurrences.repo.ts';

/** How far back an occurrence that was never planned (the server was down past it) is still recorded as missed. */
const LOOKBACK_MS = 7 * 86_400_000;
/** An occurrence this close to its start is left as planned when its programme changes: devices may be playing it. */
const REPLACE_MARGIN_MS = 60_000;
/** A normal item is shifted past clashes by at most this much; beyond it the occurrence is missed (conflict). */
const MAX_SHIFT_MS = 3 * 3_600_000;
/** How late after its time an occurrence may still be planned (a devices' start moments late is still on time). */
const LATE_PLAN_MS = 60_000;
/** Time around the planned window whose airings can clash with it. */
const MARGIN_MS = 6 * 3_600_000;

export type MissReason = 'not_planned' | 'content_missing' | 'no_clusters' | 'quiet_hours' | 'conflict';

export interface PlanResult {
  planned: number;
  missed: number;
  replaced: number;
  moved: number;
}

interface Candidate {
  entry: Entry;
  at: number;
  /** an already planned occurrence that a 'first' programme pushed out of its time */
  moving?: OccurrenceRow;
}

const RANK: Record<string, number> = { first: 0, refuse: 1, shift: 2 };
const rankOf = (e: Entry) => RANK[e.body.onClash ?? 'refuse'];

/** A broadcast id that names the placement: the same occurrence placed again elsewhere is another broadcast. */
export const occurrenceBroadcastId = (programmeId: string, version: number, at: number, startAt: number) =>
  'po-' + createHash('sha256').update(`${programmeId}:${version}:${at}:${startAt}`).digest('hex').slice(0, 24);

/**
 * Turns programmes into concrete airings for the next `horizonMs`: one broadcast per occurrence, with the rows of
 * the planner's ledger written in the same transaction. Running it again — after a crash, on every tick — plans
 * nothing twice (the ledger key is programme + version + occurrence) and continues where it stopped.
 *
 * Normal items never overlap on a cluster: a clash is resolved by the programmes' onClash rule (shift after, or keep
 * the time and move the other), quiet hours by onQuietHours; what cannot be placed is recorded missed with the
 * reason, never dropped silently.
 */
export class Planner {
  private flagDue = true;
  /** Whether each content item is ready, asked once per run (a province's run asks for thousands of occurrences). */
  private ready = new Map<string, boolean>();

  constructor(
    private catalog: ProgrammeCatalog,
    private ledger: OccurrencesRepo,
    private broadcasts: BroadcastsService,
    private clock: Clock,
    /** whether a content item (or `relay:<source id>`) can air; may answer from the database */
    private playable: (contentId: string) => boolean | Promise<boolean>,
    private horizonMs: number,
  ) {}

  async run(): Promise<PlanResult> {
    const now = this.clock.now();
    const horizon = now + this.horizonMs;
    const result: PlanResult = { planned: 0, missed: 0, replaced: await this.replaceStale(now), moved: 0 };
    this.ready.clear();
    const live = await this.catalog.live();
    const busy = await this.busy(now, horizon, live);
    const candidates: Candidate[] = [];
    // Occurrences a crash caught while being moved out of the way: placed again first.
    for (const r of await this.ledger.inState('moving')) {
      const e = await this.catalog.entryOf(r.programmeId, r.version);
      if (e) candidates.push({ entry: e, at: r.occurrenceAt, moving: r });
    }
    const known = await this.ledger.knownAll(now - LOOKBACK_MS - 1, horizon, new Map(live.map((e) => [e.programme.id, e.version.version])));
    for (const e of live) {
      const from = Math.max(e.version.approvedAt ?? now, now - LOOKBACK_MS);
      const mine = known.get(e.programme.id);
      for (const at of instants(e, from, horizon)) if (!mine?.has(at)) candidates.push({ entry: e, at });
    }
    // In time order; at the same time the programme that goes first wins, then a fixed order (deterministic).
    candidates.sort((a, b) => a.at - b.at || rankOf(a.entry) - rankOf(b.entry) || (a.entry.programme.id < b.entry.programme.id ? -1 : 1));
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      const outcome = await this.place(c, now, busy, (moved) => {
        candidates.splice(i + 1, 0, moved);
        result.moved++;
      });
      if (outcome === 'planned') result.planned++;
      else result.missed++;
    }
    if (this.flagDue) {
      this.flagDue = false;
      await this.flagQuiet(now);
    }
    return result;
  }

  /** Quiet hours changed somewhere: the next run looks at what is planned (also the first run after a start). */
  quietHoursChanged(): void {
    this.flagDue = true;
  }

  /**
   * Quiet hours changed after an occurrence was planned: it is flagged (the timetable shows it) for the operator to
   * decide, not moved behind their back — devices may already hold it. A flag clears when the rules allow it again.
   */
  private async flagQuiet(now: number): Promise<void> {
    for (const r of await this.ledger.plannedAfter(now)) {
      const e = await this.catalog.entryOf(r.programmeId, r.version);
      if (!e) continue;
      const inside = e.quiet.some((q) => q.intervals(r.startAt, r.endAt).length > 0);
      const flag = inside ? 'quiet_hours' : null;
      if (flag !== r.flag) await this.ledger.update(r.programmeId, r.version, r.occurrenceAt, { flag });
    }
  }

  /** Planned airings of versions that no longer air (a change approved, a programme deleted) are withdrawn. */
  private async replaceStale(now: number): Promise<number> {
    const live = new Map((await this.catalog.live()).map((e) => [e.programme.id, e.version.version]));
    let n = 0;
    for (const r of await this.ledger.plannedAfter(now + REPLACE_MARGIN_MS)) {
      if (live.get(r.programmeId) === r.version) continue;
      // Withdrawn first, marked after: a crash between leaves a row that is withdrawn again, never a stale airing.
      if (r.broadcastId) await this.broadcasts.withdraw(r.broadcastId, 'planner');
      await this.ledger.update(r.programmeId, r.version, r.occurrenceAt, { state: 'superseded' });
      n++;
    }
    return n;
  }

  /** Cluster time taken around the window: planned occurrences and one-off normal broadcasts. */
  private async busy(now: number, horizon: number, live: Entry[]): Promise<BusyMap> {
    const map = new BusyMap();
    const byId = new Map(live.map((e) => [`${e.programme.id}@${e.version.version}`, e]));
    for (const r of await this.ledger.plannedBetween(now - MARGIN_MS, horizon + MARGIN_MS)) {
      const e = byId.get(`${r.programmeId}@${r.version}`) ?? (await this.catalog.entryOf(r.programmeId, r.version));
      if (!e?.targets || e.body.level !== 'normal') continue;
      map.add(e.targets.clusters.keys(), { from: r.startAt, to: r.endAt, title: e.programme.name, programmeId: r.programmeId, broadcastId: r.broadcastId, rule: e.body.onClash ?? 'refuse', key: { programmeId: r.programmeId, version: r.version, occurrenceAt: r.occurrenceAt } });
    }
    for (const b of await this.broadcasts.startingBetween(now - MARGIN_MS, horizon + MARGIN_MS, ['pending_approval', 'scheduled', 'airing'], false)) {
      if (b.level !== 'normal' || b.startAt === null || b.expiresAt === null) continue;
      const t = this.broadcasts.clustersOf(b);
      const length = await this.broadcasts.lengthOf(b);
      if (t) map.add(t.clusters.keys(), { from: b.startAt, to: b.startAt + length, title: b.title, programmeId: null, broadcastId: b.id, rule: 'first' });
    }
    return map;
  }

  private async place(c: Candidate, now: number, busy: BusyMap, requeue: (moved: Candidate) => void): Promise<'planned' | 'missed'> {
    const { entry: e, at } = c;
    const key = { programmeId: e.programme.id, version: e.version.version, occurrenceAt: at };
    const d = e.version.durationMs;
    const miss = async (reason: MissReason) => {
      await this.record({ ...key, startAt: at, endAt: at + d, state: 'missed', reason, broadcastId: null, flag: null, plannedAt: now }, c.moving);
      return 'missed' as const;
    };
    if (!c.moving && at < now - LATE_PLAN_MS) return miss('not_planned');
    if (!e.targets) return miss('no_clusters');
    const relay = relayOf(e.body);
    // A relay programme needs its source to still exist, as a file programme needs its content.
    const need = e.version.contentId ?? `relay:${relay?.sourceId}`;
    let ok = this.ready.get(need);
    if (ok === undefined) this.ready.set(need, (ok = await this.playable(need)));
    if (!ok) return miss('content_missing');
    let start = c.moving ? Math.max(c.moving.startAt, at) : at;
    for (let round = 0; round < 24; round++) {
      const quiet = e.quiet.filter((q) => q.intervals(start, start + d).length > 0);
      if (quiet.length) {
        if (e.body.onQuietHours !== 'move') return miss('quiet_hours');
        start = Math.max(...quiet.map((q) => q.nextAllowed(start, d)));
        continue;
      }
      if (e.body.level !== 'normal') break;
      const clash = busy.clash(e.targets.clusters.keys(), start, start + d);
      if (!clash) break;
      const other = clash.busy;
      // Ours goes first when it says so and theirs may still move (not on air yet, a programme's, not also 'first').
      if (rankOf(e) === 0 && other.key && other.rule !== 'first' && other.from > now + REPLACE_MARGIN_MS) {
        await this.displace(other, busy, requeue);
        continue;
      }
      start = other.to;
      if (start - at > MAX_SHIFT_MS) return miss('conflict');
    }
    const id = occurrenceBroadcastId(key.programmeId, key.version, at, start);
    const row: OccurrenceRow = { ...key, startAt: start, endAt: start + d, state: 'planned', reason: start !== at ? 'moved' : null, broadcastId: id, flag: null, plannedAt: now };
    await this.broadcasts.planned(
      {
        id,
        programmeId: key.programmeId,
        version: key.version,
        title: e.programme.name,
        level: e.body.level,
        targets: e.body.targets,
        resolved: e.targets,
        contentId: e.version.contentId,
        ...(relay ? { relay } : {}),
        startAt: start,
        volume: e.body.volume ?? null,
        createdBy: e.version.createdBy,
        approvedBy: e.version.approvedBy,
        approvedAt: e.version.approvedAt,
      },
      (tx) => this.record(row, c.moving, tx),
    );
    if (e.body.level === 'normal') busy.add(e.targets.clusters.keys(), { from: start, to: start + d, title: e.programme.name, programmeId: key.programmeId, broadcastId: id, rule: e.body.onClash ?? 'refuse', key });
    return 'planned';
  }

  /**
   * A new row, or — for an occurrence moved out of the way — the same row with its new placement. Inside `tx` when
   * written with its broadcast.
   */
  private async record(row: OccurrenceRow, moving?: OccurrenceRow, tx?: Tx): Promise<void> {
    if (moving) await this.ledger.update(row.programmeId, row.version, row.occurrenceAt, row, tx);
    else await this.ledger.insert(row, tx);
  }

  /** Takes a planned occurrence out of its time so a 'first' programme can have it; it is placed again after. */
  private async displace(b: Busy, busy: BusyMap, requeue: (moved: Candidate) => void): Promise<void> {
    busy.remove(b);
    const k = b.key!;
    const e = await this.catalog.entryOf(k.programmeId, k.version);
    const row = await this.ledger.get(k.programmeId, k.version, k.occurrenceAt);
    if (!e || !row) return;
    // Marked before it is withdrawn: a crash in between leaves a 'moving' row the next run places again.
    await this.ledger.update(k.programmeId, k.version, k.occurrenceAt, { state: 'moving' });
    if (b.broadcastId) await this.broadcasts.withdraw(b.broadcastId, 'planner');
    requeue({ entry: e, at: k.occurrenceAt, moving: { ...row, state: 'moving' } });
  }
}

/** The relay a programme airs, when it is a relay programme (its only item). */
function relayOf(body: { items: { type: string }[] }): { sourceId: string; durationS: number } | null {
  const item = body.items[0] as { type: string; sourceId?: string; durationS?: number } | undefined;
  return item?.type === 'relay' ? { sourceId: item.sourceId!, durationS: item.durationS! } : null;
}
