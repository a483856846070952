import { asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { clusters, clusterState, deviceCredentials, speakerOutputs } from '../db/schema.ts';

export type ClusterRow = typeof clusters.$inferSelect;
export type OutputRow = typeof speakerOutputs.$inferSelect;
export type StateRow = typeof clusterState.$inferSelect;
export type CredentialRow = typeof deviceCredentials.$inferSelect;

export class ClustersRepo {
  constructor(private db: Db) {}

  all(): ClusterRow[] {
    return this.db.select().from(clusters).orderBy(asc(clusters.name)).all();
  }
  get(id: string): ClusterRow | null {
    return this.db.select().from(clusters).where(eq(clusters.id, id)).get() ?? null;
  }
  bySerial(serial: string): ClusterRow | null {
    return this.db.select().from(clusters).where(eq(clusters.serial, serial)).get() ?? null;
  }
  outputs(ids?: string[]): OutputRow[] {
    const q = this.db.select().from(speakerOutputs);
    return (ids ? q.where(inArray(speakerOutputs.clusterId, ids)) : q).orderBy(asc(speakerOutputs.clusterId), asc(speakerOutputs.index)).all();
  }
  credentials(): CredentialRow[] {
    return this.db.select().from(deviceCredentials).all();
  }
  states(): StateRow[] {
    return this.db.select().from(clusterState).all();
  }
  state(id: string): StateRow | null {
    return this.db.select().from(clusterState).where(eq(clusterState.clusterId, id)).get() ?? null;
  }

  /** Inserts clusters with their outputs, credentials and empty state in one transaction: all or nothing. */
  insertMany(rows: { cluster: typeof clusters.$inferInsert; outputs: (typeof speakerOutputs.$inferInsert)[]; secretHash: string; issuedAt: number }[]): void {
    this.db.transaction((tx) => {
      for (const r of rows) {
        tx.insert(clusters).values(r.cluster).run();
        if (r.outputs.length) tx.insert(speakerOutputs).values(r.outputs).run();
        tx.insert(deviceCredentials).values({ clusterId: r.cluster.id, secretHash: r.secretHash, issuedAt: r.issuedAt }).run();
        tx.insert(clusterState).values({ clusterId: r.cluster.id }).run();
      }
    });
  }

  update(id: string, patch: Partial<typeof clusters.$inferInsert>, outputs?: (typeof speakerOutputs.$inferInsert)[]): void {
    this.db.transaction((tx) => {
      if (Object.keys(patch).length) tx.update(clusters).set(patch).where(eq(clusters.id, id)).run();
      if (outputs) {
        tx.delete(speakerOutputs).where(eq(speakerOutputs.clusterId, id)).run();
        tx.insert(speakerOutputs).values(outputs).run();
      }
    });
  }

  delete(id: string): void {
    this.db.delete(clusters).where(eq(clusters.id, id)).run();
  }

  setCredential(clusterId: string, secretHash: string | null, at: number, revoked: boolean): void {
    this.db
      .update(deviceCredentials)
      .set(revoked ? { secretHash: null, revokedAt: at } : { secretHash, issuedAt: at, revokedAt: null })
      .where(eq(deviceCredentials.clusterId, clusterId))
      .run();
  }
}
