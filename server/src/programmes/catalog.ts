import type { ProgrammeInput } from '../../../schemas/api/programmes.ts';
import type { AreasService, EffectivePolicy } from '../areas/areas.service.ts';
import type { ResolvedTargets } from '../broadcasts/targets.ts';
import { occurrences } from '../timetable/recurrence.ts';
import type { ProgrammeRow, ProgrammesRepo, VersionRow } from './programmes.repo.ts';

/** One version of a programme with what every reader needs of it: its body, clusters and the rules of its area. */
export interface Entry {
  programme: ProgrammeRow;
  version: VersionRow;
  body: ProgrammeInput;
  /** null: no cluster is targeted any more */
  targets: ResolvedTargets | null;
  policy: EffectivePolicy;
  /** quiet hours of every area its clusters lie in */
  quiet: NonNullable<EffectivePolicy['quiet']>[];
}

/**
 * Programmes as the planner, the checks and the timetable read them, resolved once and kept until a programme,
 * an area or the registry changes (the timetable of a province must not resolve targets per request).
 */
export class ProgrammeCatalog {
  /**
   * The load in progress or done. Dropped by `invalidate`, so a load that began before a change is never kept: its
   * callers get what was there when they asked, the next caller reads again.
   */
  private cache: Promise<Cache> | null = null;

  constructor(
    private repo: ProgrammesRepo,
    private areas: AreasService,
    private resolve: (body: ProgrammeInput) => ResolvedTargets | null,
  ) {}

  invalidate(): void {
    this.cache = null;
  }

  entry(programme: ProgrammeRow, version: VersionRow): Entry {
    const body = version.body as ProgrammeInput;
    const targets = this.resolve(body);
    return { programme, version, body, targets, ...this.rules(body.areaId, targets) };
  }

  /** The rules a body is held to: its owning area's zone and sessions, every targeted area's quiet hours. */
  rules(areaId: string, targets: ResolvedTargets | null): { policy: EffectivePolicy; quiet: NonNullable<EffectivePolicy['quiet']>[] } {
    const policy = this.areas.policy(areaId);
    const quiet = [...new Set((targets?.areaIds ?? [areaId]).map((a) => this.areas.policy(a).quiet))].filter((q) => q !== null);
    return { policy, quiet };
  }

  private load(): Promise<Cache> {
    if (this.cache) return this.cache;
    const loading: Promise<Cache> = this.read().catch((err: unknown) => {
      if (this.cache === loading) this.cache = null; // the next caller tries again
      throw err;
    });
    return (this.cache = loading);
  }

  private async read(): Promise<Cache> {
    const live: Entry[] = [];
    const pending: Entry[] = [];
    for (const p of await this.repo.current()) {
      const l = p.liveVersion !== null ? await this.repo.version(p.id, p.liveVersion) : null;
      const w = p.pendingVersion !== null ? await this.repo.version(p.id, p.pendingVersion) : null;
      if (l) live.push(this.entry(p, l));
      if (w) pending.push(this.entry(p, w));
    }
    // Live first: the planner and the timetable look versions up per row, thousands of times a run.
    const byKey = new Map<string, Entry>();
    for (const e of [...live, ...pending]) if (!byKey.has(key(e.programme.id, e.version.version))) byKey.set(key(e.programme.id, e.version.version), e);
    return { live, pending, byKey };
  }

  /** Any version of a programme (one no longer live, for its planned rows), or null. */
  async entryOf(programmeId: string, version: number): Promise<Entry | null> {
    const hit = (await this.load()).byKey.get(key(programmeId, version));
    if (hit) return hit;
    const p = await this.repo.get(programmeId);
    const v = p ? await this.repo.version(programmeId, version) : null;
    return p && v ? this.entry(p, v) : null;
  }

  /** Versions that air. */
  async live(): Promise<Entry[]> {
    return (await this.load()).live;
  }

  /** Versions awaiting approval. */
  async pending(): Promise<Entry[]> {
    return (await this.load()).pending;
  }

  /** Both, from one read: a change between two calls cannot show a programme in neither or in both. */
  async versions(): Promise<{ live: Entry[]; pending: Entry[] }> {
    const { live, pending } = await this.load();
    return { live, pending };
  }
}

interface Cache {
  live: Entry[];
  pending: Entry[];
  byKey: Map<string, Entry>;
}

const key = (programmeId: string, version: number) => `${programmeId}@${version}`;

/** The instants a version names in [from, to), on its area's wall clock. */
export function instants(e: Pick<Entry, 'body' | 'policy'>, from: number, to: number): number[] {
  return occurrences(e.body.schedule, from, to, e.policy.timeZone);
}
