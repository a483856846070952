import { and, eq, isNull } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import type { programmeVersions, programmes } from '../db/schema.ts';

export type ProgrammeRow = typeof programmes.$inferSelect;
export type VersionRow = typeof programmeVersions.$inferSelect;

/** Programmes and their versions: the only SQL about them. */
export class ProgrammesRepo {
  constructor(private db: Db) {}

  /** Several changes as one; every call inside must be given `tx`. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return inTransaction(this.db, fn);
  }
  async insert(row: typeof programmes.$inferInsert, tx?: Tx): Promise<void> {
    const { programmes } = this.db.t;
    await this.db.run(tx, (q) => q.insert(programmes).values(row));
  }
  async update(id: string, patch: Partial<typeof programmes.$inferInsert>, tx?: Tx): Promise<void> {
    const { programmes } = this.db.t;
    await this.db.run(tx, (q) => q.update(programmes).set(patch).where(eq(programmes.id, id)));
  }
  get(id: string, tx?: Tx): Promise<ProgrammeRow | null> {
    const { programmes } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(programmes).where(eq(programmes.id, id)).limit(1)).then(first);
  }
  /** Programmes not deleted. */
  current(tx?: Tx): Promise<ProgrammeRow[]> {
    const { programmes } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(programmes).where(isNull(programmes.deletedAt)));
  }
  async insertVersion(row: typeof programmeVersions.$inferInsert, tx?: Tx): Promise<void> {
    const { programmeVersions } = this.db.t;
    await this.db.run(tx, (q) => q.insert(programmeVersions).values(row));
  }
  async updateVersion(id: string, version: number, patch: Partial<typeof programmeVersions.$inferInsert>, tx?: Tx): Promise<void> {
    const { programmeVersions } = this.db.t;
    await this.db.run(tx, (q) => q.update(programmeVersions).set(patch).where(and(eq(programmeVersions.programmeId, id), eq(programmeVersions.version, version))));
  }
  version(id: string, version: number, tx?: Tx): Promise<VersionRow | null> {
    const { programmeVersions } = this.db.t;
    return this.db
      .run(tx, (q) => q.select().from(programmeVersions).where(and(eq(programmeVersions.programmeId, id), eq(programmeVersions.version, version))).limit(1))
      .then(first);
  }
  /** Names of the programmes whose airing or waiting version relays this source: it must not be deleted. */
  async relaying(sourceId: string, tx?: Tx): Promise<string[]> {
    const { programmeVersions, programmes } = this.db.t;
    const rows = await this.db.run(tx, (q) =>
      q
        .select({ body: programmeVersions.body, name: programmes.name, state: programmeVersions.state })
        .from(programmeVersions)
        .innerJoin(programmes, eq(programmes.id, programmeVersions.programmeId))
        .where(and(isNull(programmes.deletedAt), isNull(programmeVersions.contentId))),
    );
    const relays = (b: unknown) => ((b as { items?: { type: string; sourceId?: string }[] }).items ?? []).some((i) => i.type === 'relay' && i.sourceId === sourceId);
    return [...new Set(rows.filter((r) => (r.state === 'approved' || r.state === 'pending_approval') && relays(r.body)).map((r) => r.name))];
  }
  /** Content ids of the versions that air or wait to: content they use must not be deleted. */
  async contentInUse(tx?: Tx): Promise<Map<string, { programmeId: string; name: string }>> {
    const { programmeVersions, programmes } = this.db.t;
    const rows = await this.db.run(tx, (q) =>
      q
        .select({ contentId: programmeVersions.contentId, programmeId: programmes.id, name: programmes.name, state: programmeVersions.state })
        .from(programmeVersions)
        .innerJoin(programmes, eq(programmes.id, programmeVersions.programmeId))
        .where(isNull(programmes.deletedAt)),
    );
    return new Map(rows.filter((r) => r.contentId !== null && (r.state === 'approved' || r.state === 'pending_approval')).map((r) => [r.contentId!, { programmeId: r.programmeId, name: r.name }]));
  }
}
