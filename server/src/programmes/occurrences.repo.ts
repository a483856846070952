import { and, eq, gte, inArray, lt, ne } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { programmeOccurrences } from '../db/schema.ts';

export type OccurrenceRow = typeof programmeOccurrences.$inferSelect;
/** planned (a broadcast exists), missed (reason), superseded (its version no longer airs), moving (being placed again) */
export type OccurrenceState = 'planned' | 'missed' | 'superseded' | 'moving';

/** The planner's ledger (programme, version, occurrence): the only SQL about it. */
export class OccurrencesRepo {
  constructor(private db: Db) {}

  /** Insert-or-ignore: a row already there means the occurrence was dealt with (by this run or one before a crash). */
  insert(row: OccurrenceRow): boolean {
    return this.db.insert(programmeOccurrences).values(row).onConflictDoNothing().run().changes === 1;
  }
  update(programmeId: string, version: number, occurrenceAt: number, patch: Partial<OccurrenceRow>): void {
    this.db
      .update(programmeOccurrences)
      .set(patch)
      .where(and(eq(programmeOccurrences.programmeId, programmeId), eq(programmeOccurrences.version, version), eq(programmeOccurrences.occurrenceAt, occurrenceAt)))
      .run();
  }
  get(programmeId: string, version: number, occurrenceAt: number): OccurrenceRow | null {
    return (
      this.db
        .select()
        .from(programmeOccurrences)
        .where(and(eq(programmeOccurrences.programmeId, programmeId), eq(programmeOccurrences.version, version), eq(programmeOccurrences.occurrenceAt, occurrenceAt)))
        .get() ?? null
    );
  }
  inState(state: OccurrenceState): OccurrenceRow[] {
    return this.db.select().from(programmeOccurrences).where(eq(programmeOccurrences.state, state)).all();
  }
  /** Planned rows starting after `after`. */
  plannedAfter(after: number): OccurrenceRow[] {
    return this.db.select().from(programmeOccurrences).where(and(eq(programmeOccurrences.state, 'planned'), gte(programmeOccurrences.startAt, after))).all();
  }
  /**
   * For every programme, the occurrence instants its given version must not plan again within [from, to): its own
   * rows, and other versions' rows unless superseded. One read for the whole planner run.
   */
  knownAll(from: number, to: number, versions: Map<string, number>): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>();
    const rows = this.db
      .select({ programmeId: programmeOccurrences.programmeId, at: programmeOccurrences.occurrenceAt, version: programmeOccurrences.version, state: programmeOccurrences.state })
      .from(programmeOccurrences)
      .where(and(gte(programmeOccurrences.occurrenceAt, from), lt(programmeOccurrences.occurrenceAt, to)))
      .all();
    for (const r of rows) {
      if (r.version !== versions.get(r.programmeId) && r.state === 'superseded') continue;
      let set = out.get(r.programmeId);
      if (!set) out.set(r.programmeId, (set = new Set()));
      set.add(r.at);
    }
    return out;
  }
  /** Planned rows airing within [from, to) — the cluster time already taken. */
  plannedBetween(from: number, to: number): OccurrenceRow[] {
    return this.db.select().from(programmeOccurrences).where(and(eq(programmeOccurrences.state, 'planned'), lt(programmeOccurrences.startAt, to), gte(programmeOccurrences.endAt, from))).all();
  }
  /** Every row starting within [from, to), for the timetable. */
  between(from: number, to: number, programmeIds?: string[]): OccurrenceRow[] {
    const w = [gte(programmeOccurrences.startAt, from), lt(programmeOccurrences.startAt, to), ne(programmeOccurrences.state, 'superseded')];
    if (programmeIds) w.push(inArray(programmeOccurrences.programmeId, programmeIds));
    return this.db.select().from(programmeOccurrences).where(and(...w)).all();
  }
}
