import { asc, eq, inArray } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/client.ts';
import { inTransaction } from '../db/tx.ts';
import { clusters, clusterState, deviceCredentials, speakerOutputs } from '../db/schema.ts';

export type ClusterRow = typeof clusters.$inferSelect;
export type OutputRow = typeof speakerOutputs.$inferSelect;
export type StateRow = typeof clusterState.$inferSelect;
export type CredentialRow = typeof deviceCredentials.$inferSelect;

/** Clusters, their speaker outputs, device credentials and latest state (`cluster_state`): this is their only writer. */

export class ClustersRepo {
  private updateState: Statement | null = null;

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
    inTransaction(this.db, () => {
      for (const r of rows) {
        this.db.insert(clusters).values(r.cluster).run();
        if (r.outputs.length) this.db.insert(speakerOutputs).values(r.outputs).run();
        this.db.insert(deviceCredentials).values({ clusterId: r.cluster.id, secretHash: r.secretHash, issuedAt: r.issuedAt }).run();
        this.db.insert(clusterState).values({ clusterId: r.cluster.id }).run();
      }
    });
  }

  update(id: string, patch: Partial<typeof clusters.$inferInsert>, outputs?: (typeof speakerOutputs.$inferInsert)[]): void {
    inTransaction(this.db, () => {
      if (Object.keys(patch).length) this.db.update(clusters).set(patch).where(eq(clusters.id, id)).run();
      if (outputs) {
        this.db.delete(speakerOutputs).where(eq(speakerOutputs.clusterId, id)).run();
        this.db.insert(speakerOutputs).values(outputs).run();
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

  /**
   * Writes clusters' latest state (what the health store changed, at each telemetry flush). A statement prepared
   * once: a flush after an outage writes the whole fleet's. Atomic only inside a caller's inTransaction().
   */
  saveStates(states: StateRow[]): void {
    const update = (this.updateState ??= this.db.$client.prepare(
      'update cluster_state set online = ?, last_seen = ?, changed_at = ?, telemetry = ?, telemetry_at = ?, birth = ?, fault_count = ?, malformed_count = ? where cluster_id = ?',
    ));
    const json = (v: unknown) => (v ? JSON.stringify(v) : null);
    for (const s of states) {
      update.run(s.online ? 1 : 0, s.lastSeen, s.changedAt, json(s.telemetry), s.telemetryAt, json(s.birth), s.faultCount, s.malformedCount, s.clusterId);
    }
  }
}
