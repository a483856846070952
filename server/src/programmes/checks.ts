import type { Problem, ProgrammeInput } from '../../../schemas/api/programmes.ts';
import type { BroadcastsService } from '../broadcasts/broadcasts.service.ts';
import type { ResolvedTargets } from '../broadcasts/targets.ts';
import { wallLabel } from '../timetable/recurrence.ts';
import { instants, type Entry, type ProgrammeCatalog } from './catalog.ts';

/** How far ahead a save looks for clashes and session caps: two weeks hold every weekly pattern twice. */
const CLASH_WINDOW_MS = 14 * 86_400_000;
/** …and for quiet hours, which a lunar or monthly item may meet only once in a while. */
const QUIET_WINDOW_MS = 62 * 86_400_000;
const MAX_NAMES = 20;

export interface Candidate {
  programmeId: string | null;
  body: ProgrammeInput;
  durationMs: number;
  targets: ResolvedTargets;
}

const minutes = (ms: number) => Math.round(ms / 6_000) / 10;
const mins = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/**
 * What stops a save, found before anything is written and told with the numbers: quiet hours (with the nearest
 * allowed time), a session over its cap, a normal item overlapping another on a cluster. Messages are in the
 * officer's Vietnamese; the fields carry the same facts for other languages.
 */
export class ProgrammeChecks {
  constructor(
    private catalog: ProgrammeCatalog,
    private broadcasts: BroadcastsService,
    private clusterName: (id: string) => string,
  ) {}

  async problems(c: Candidate, now: number): Promise<Problem[]> {
    const rules = this.catalog.rules(c.body.areaId, c.targets);
    const me = { body: c.body, policy: rules.policy };
    const fmt = (ms: number) => {
      const w = wallLabel(ms, rules.policy.timeZone);
      return `${w.time} ${w.date.slice(8)}/${w.date.slice(5, 7)}/${w.date.slice(0, 4)}`;
    };
    const out: Problem[] = [];
    for (const at of instants(me, now, now + QUIET_WINDOW_MS)) {
      const q = rules.quiet.find((x) => x.intervals(at, at + c.durationMs).length > 0);
      if (!q) continue;
      const next = Math.max(...rules.quiet.map((x) => x.nextAllowed(at, c.durationMs)));
      out.push({
        kind: 'quiet_hours',
        message: `Giờ phát ${fmt(at)} rơi vào giờ không phát (${q.spec}). Giờ được phát gần nhất: ${fmt(next)}.`,
        field: 'body/schedule/time',
        at: new Date(at).toISOString(),
        nextAllowed: new Date(next).toISOString(),
      });
      break;
    }
    const mine = instants(me, now, now + CLASH_WINDOW_MS);
    const { live, pending } = await this.catalog.versions();
    const others = [...live, ...pending].filter((e) => e.programme.id !== c.programmeId && e.targets && shares(e.targets, c.targets));
    out.push(...this.caps(c, mine, others, rules.policy));
    if (c.body.level === 'normal') out.push(...(await this.clashes(c, mine, others, now, fmt)));
    return out;
  }

  private caps(c: Candidate, mine: number[], others: Entry[], policy: Entry['policy']): Problem[] {
    for (const s of policy.sessions) {
      for (const at of mine) {
        const w = wallLabel(at, policy.timeZone);
        const inside = (ms: number) => {
          const x = wallLabel(ms, policy.timeZone);
          return x.date === w.date && mins(x.time) >= mins(s.from) && mins(x.time) < mins(s.to);
        };
        if (!inside(at)) continue;
        const dayStart = at - 86_400_000;
        let used = 0;
        const counted = new Set<string>();
        for (const e of others) {
          if (counted.has(e.programme.id)) continue; // a live version and its pending change are one programme
          const n = instants(e, dayStart, at + 86_400_000).filter(inside).length;
          if (n) counted.add(e.programme.id);
          used += n * e.version.durationMs;
        }
        if (used + c.durationMs <= s.maxMinutes * 60_000) continue;
        return [
          {
            kind: 'session_cap',
            message: `${s.name} (${s.from}–${s.to}) ngày ${w.date.slice(8)}/${w.date.slice(5, 7)} được phát tối đa ${s.maxMinutes} phút: đã có ${minutes(used)} phút, chương trình này ${minutes(c.durationMs)} phút.`,
            field: 'body/items',
            at: new Date(at).toISOString(),
            cap: { session: s.name, from: s.from, to: s.to, limitMin: s.maxMinutes, usedMin: minutes(used), thisMin: minutes(c.durationMs), date: w.date },
          },
        ];
      }
    }
    return [];
  }

  private async clashes(c: Candidate, mine: number[], others: Entry[], now: number, fmt: (ms: number) => string): Promise<Problem[]> {
    const out: Problem[] = [];
    const seen = new Set<string>();
    const clash = (name: string, programmeId: string | null, broadcastId: string | null, theirs: ResolvedTargets, from: number, to: number) => {
      const both = [...c.targets.clusters.keys()].filter((id) => theirs.clusters.has(id));
      const names = both.slice(0, MAX_NAMES).map(this.clusterName);
      out.push({
        kind: 'conflict',
        message: `Trùng giờ với “${name}” lúc ${fmt(from)} trên ${both.length} cụm loa: ${names.join(', ')}${both.length > MAX_NAMES ? '…' : ''}.`,
        field: 'body/schedule/time',
        at: new Date(from).toISOString(),
        clash: { programmeId, broadcastId, name, clusters: names, clusterCount: both.length, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      });
    };
    for (const e of others) {
      if (e.body.level !== 'normal' || seen.has(e.programme.id)) continue;
      const theirs = instants(e, now - 86_400_000, now + CLASH_WINDOW_MS);
      const hit = firstOverlap(mine, c.durationMs, theirs, e.version.durationMs);
      if (hit === null) continue;
      seen.add(e.programme.id);
      clash(e.programme.name, e.programme.id, null, e.targets!, hit, hit + e.version.durationMs);
    }
    for (const b of await this.broadcasts.startingBetween(now, now + CLASH_WINDOW_MS, ['pending_approval', 'scheduled'], false)) {
      if (b.level !== 'normal' || b.startAt === null) continue;
      const t = this.broadcasts.clustersOf(b);
      const length = await this.broadcasts.lengthOf(b);
      if (!t || !shares(t, c.targets) || firstOverlap(mine, c.durationMs, [b.startAt], length) === null) continue;
      clash(b.title, null, b.id, t, b.startAt, b.startAt + length);
    }
    return out;
  }
}

function shares(a: ResolvedTargets, b: ResolvedTargets): boolean {
  const [small, big] = a.clusters.size < b.clusters.size ? [a, b] : [b, a];
  for (const id of small.clusters.keys()) if (big.clusters.has(id)) return true;
  return false;
}

/** The start of the first of `theirs` overlapping any of `mine`, or null (both sorted). */
function firstOverlap(mine: number[], myLength: number, theirs: number[], theirLength: number): number | null {
  let j = 0;
  for (const m of mine) {
    while (j < theirs.length && theirs[j] + theirLength <= m) j++;
    if (j < theirs.length && theirs[j] < m + myLength) return theirs[j];
  }
  return null;
}
