import { and, eq, gte, inArray, lt, ne } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { programmeOccurrences } from '../db/schema.ts';

export type OccurrenceRow = typeof programmeOccurrences.$inferSelect;
/** planned (a broadcast exists), missed (reason), superseded (its version no longer airs), moving (being placed again) */
export type OccurrenceState = 'planned' | 'missed' | 'superseded' | 'moving';

/** The planner's ledger (programme, version, occurrence): the only SQL about it. */
export class OccurrencesRepo {
  constructor(private db: Db) {}

  /** Insert-or-ignore: a row already there means the occurrence was dealt with (by this run or one before a crash). */
  async insert(row: OccurrenceRow, tx?: Tx): Promise<boolean> {
    const { programmeOccurrences } = this.db.t;
    const added = await this.db.run(tx, (q) => q.insert(programmeOccurrences).values(row).onConflictDoNothing().returning({ programmeId: programmeOccurrences.programmeId }));
    return added.length === 1;
  }
  async update(programmeId: string, version: number, occurrenceAt: number, patch: Partial<OccurrenceRow>, tx?: Tx): Promise<void> {
    const { programmeOccurrences } = this.db.t;
    await this.db.run(tx, (q) =>
      q
        .update(programmeOccurrences)
        .set(patch)
        .where(and(eq(programmeOccurrences.programmeId, programmeId), eq(programmeOccurrences.version, version), eq(programmeOccurrences.occurrenceAt, occurrenceAt))),
    );
  }
  get(programmeId: string, version: number, occurrenceAt: number, tx?: Tx): Promise<OccurrenceRow | null> {
    const { programmeOccurrences } = this.db.t;
    return this.db
      .run(tx, (q) =>
        q
          .select()
          .from(programmeOccurrences)
          .where(and(eq(programmeOccurrences.programmeId, programmeId), eq(programmeOccurrences.version, version), eq(programmeOccurrences.occurrenceAt, occurrenceAt)))
          .limit(1),
      )
      .then(first);
  }
  inState(state: OccurrenceState, tx?: Tx): Promise<OccurrenceRow[]> {
    const { programmeOccurrences } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(programmeOccurrences).where(eq(programmeOccurrences.state, state)));
  }
  /** Planned rows starting after `after`. */
  plannedAfter(after: number, tx?: Tx): Promise<OccurrenceRow[]> {
    const { programmeOccurrences } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(programmeOccurrences).where(and(eq(programmeOccurrences.state, 'planned'), gte(programmeOccurrences.startAt, after))));
  }
  /**
   * For every programme, the occurrence instants its given version must not plan again within [from, to): its own
   * rows, and other versions' rows unless superseded. One read for the whole planner run.
   */
  async knownAll(from: number, to: number, versions: Map<string, number>, tx?: Tx): Promise<Map<string, Set<number>>> {
    const { programmeOccurrences } = this.db.t;
    const out = new Map<string, Set<number>>();
    const rows = await this.db.run(tx, (q) =>
      q
        .select({ programmeId: programmeOccurrences.programmeId, at: programmeOccurrences.occurrenceAt, version: programmeOccurrences.version, state: programmeOccurrences.state })
        .from(programmeOccurrences)
        .where(and(gte(programmeOccurrences.occurrenceAt, from), lt(programmeOccurrences.occurrenceAt, to))),
    );
    for (const r of rows) {
      if (r.version !== versions.get(r.programmeId) && r.state === 'superseded') continue;
      let set = out.get(r.programmeId);
      if (!set) out.set(r.programmeId, (set = new Set()));
      set.add(r.at);
    }
    return out;
  }
  /** Planned rows airing within [from, to) — the cluster time already taken. */
  plannedBetween(from: number, to: number, tx?: Tx): Promise<OccurrenceRow[]> {
    const { programmeOccurrences } = this.db.t;
    return this.db.run(tx, (q) =>
      q.select().from(programmeOccurrences).where(and(eq(programmeOccurrences.state, 'planned'), lt(programmeOccurrences.startAt, to), gte(programmeOccurrences.endAt, from))),
    );
  }
  /** Every row starting within [from, to), for the timetable. */
  between(from: number, to: number, programmeIds?: string[], tx?: Tx): Promise<OccurrenceRow[]> {
    const { programmeOccurrences } = this.db.t;
    const w = [gte(programmeOccurrences.startAt, from), lt(programmeOccurrences.startAt, to), ne(programmeOccurrences.state, 'superseded')];
    if (programmeIds) w.push(inArray(programmeOccurrences.programmeId, programmeIds));
    return this.db.run(tx, (q) => q.select().from(programmeOccurrences).where(and(...w)));
  }
}
