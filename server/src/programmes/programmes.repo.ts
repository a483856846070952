import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { programmeVersions, programmes } from '../db/schema.ts';

export type ProgrammeRow = typeof programmes.$inferSelect;
export type VersionRow = typeof programmeVersions.$inferSelect;

/** Programmes and their versions: the only SQL about them. */
export class ProgrammesRepo {
  constructor(private db: Db) {}

  transaction<T>(fn: () => T): T {
    return inTransaction(this.db, fn);
  }
  insert(row: typeof programmes.$inferInsert): void {
    this.db.insert(programmes).values(row).run();
  }
  update(id: string, patch: Partial<typeof programmes.$inferInsert>): void {
    this.db.update(programmes).set(patch).where(eq(programmes.id, id)).run();
  }
  get(id: string): ProgrammeRow | null {
    return this.db.select().from(programmes).where(eq(programmes.id, id)).get() ?? null;
  }
  /** Programmes not deleted. */
  current(): ProgrammeRow[] {
    return this.db.select().from(programmes).where(isNull(programmes.deletedAt)).all();
  }
  insertVersion(row: typeof programmeVersions.$inferInsert): void {
    this.db.insert(programmeVersions).values(row).run();
  }
  updateVersion(id: string, version: number, patch: Partial<typeof programmeVersions.$inferInsert>): void {
    this.db.update(programmeVersions).set(patch).where(and(eq(programmeVersions.programmeId, id), eq(programmeVersions.version, version))).run();
  }
  version(id: string, version: number): VersionRow | null {
    return this.db.select().from(programmeVersions).where(and(eq(programmeVersions.programmeId, id), eq(programmeVersions.version, version))).get() ?? null;
  }
  /** Names of the programmes whose airing or waiting version relays this source: it must not be deleted. */
  relaying(sourceId: string): string[] {
    const rows = this.db
      .select({ body: programmeVersions.body, name: programmes.name, state: programmeVersions.state })
      .from(programmeVersions)
      .innerJoin(programmes, eq(programmes.id, programmeVersions.programmeId))
      .where(and(isNull(programmes.deletedAt), isNull(programmeVersions.contentId)))
      .all();
    const relays = (b: unknown) => ((b as { items?: { type: string; sourceId?: string }[] }).items ?? []).some((i) => i.type === 'relay' && i.sourceId === sourceId);
    return [...new Set(rows.filter((r) => (r.state === 'approved' || r.state === 'pending_approval') && relays(r.body)).map((r) => r.name))];
  }
  /** Content ids of the versions that air or wait to: content they use must not be deleted. */
  contentInUse(): Map<string, { programmeId: string; name: string }> {
    const rows = this.db
      .select({ contentId: programmeVersions.contentId, programmeId: programmes.id, name: programmes.name, state: programmeVersions.state })
      .from(programmeVersions)
      .innerJoin(programmes, eq(programmes.id, programmeVersions.programmeId))
      .where(isNull(programmes.deletedAt))
      .all();
    return new Map(rows.filter((r) => r.contentId !== null && (r.state === 'approved' || r.state === 'pending_approval')).map((r) => [r.contentId!, { programmeId: r.programmeId, name: r.name }]));
  }
}
