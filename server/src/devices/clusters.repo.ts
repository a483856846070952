import { asc, eq, inArray } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import { first, type Db, type Tx } from '../db/client.ts';
import type { clusters, clusterState, deviceCredentials, speakerOutputs } from '../db/schema.ts';

export type ClusterRow = typeof clusters.$inferSelect;
export type OutputRow = typeof speakerOutputs.$inferSelect;
export type StateRow = typeof clusterState.$inferSelect;
export type CredentialRow = typeof deviceCredentials.$inferSelect;

/** Clusters, their speaker outputs, device credentials and latest state (`cluster_state`): this is their only writer. */

export class ClustersRepo {
  private updateState: Statement | null = null;

  constructor(private db: Db) {}

  all(tx?: Tx): Promise<ClusterRow[]> {
    const { clusters } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(clusters).orderBy(asc(clusters.name)));
  }
  get(id: string, tx?: Tx): Promise<ClusterRow | null> {
    const { clusters } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(clusters).where(eq(clusters.id, id)).limit(1)).then(first);
  }
  bySerial(serial: string, tx?: Tx): Promise<ClusterRow | null> {
    const { clusters } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(clusters).where(eq(clusters.serial, serial)).limit(1)).then(first);
  }
  outputs(ids?: string[], tx?: Tx): Promise<OutputRow[]> {
    const { speakerOutputs } = this.db.t;
    return this.db.run(tx, (q) => {
      const s = q.select().from(speakerOutputs);
      return (ids ? s.where(inArray(speakerOutputs.clusterId, ids)) : s).orderBy(asc(speakerOutputs.clusterId), asc(speakerOutputs.index));
    });
  }
  credentials(tx?: Tx): Promise<CredentialRow[]> {
    return this.db.run(tx, (q) => q.select().from(this.db.t.deviceCredentials));
  }
  states(tx?: Tx): Promise<StateRow[]> {
    return this.db.run(tx, (q) => q.select().from(this.db.t.clusterState));
  }
  state(id: string, tx?: Tx): Promise<StateRow | null> {
    const { clusterState } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(clusterState).where(eq(clusterState.clusterId, id)).limit(1)).then(first);
  }

  /** Inserts clusters with their outputs, credentials and empty state in one transaction: all or nothing. */
  insertMany(
    rows: { cluster: typeof clusters.$inferInsert; outputs: (typeof speakerOutputs.$inferInsert)[]; secretHash: string; issuedAt: number }[],
    outer?: Tx,
  ): Promise<void> {
    const { clusters, speakerOutputs, deviceCredentials, clusterState } = this.db.t;
    return this.db.transaction(async (tx) => {
      for (const r of rows) {
        await this.db.run(tx, (q) => q.insert(clusters).values(r.cluster));
        if (r.outputs.length) await this.db.run(tx, (q) => q.insert(speakerOutputs).values(r.outputs));
        await this.db.run(tx, (q) => q.insert(deviceCredentials).values({ clusterId: r.cluster.id, secretHash: r.secretHash, issuedAt: r.issuedAt }));
        await this.db.run(tx, (q) => q.insert(clusterState).values({ clusterId: r.cluster.id }));
      }
    }, outer);
  }

  update(id: string, patch: Partial<typeof clusters.$inferInsert>, outputs?: (typeof speakerOutputs.$inferInsert)[], outer?: Tx): Promise<void> {
    const { clusters, speakerOutputs } = this.db.t;
    return this.db.transaction(async (tx) => {
      if (Object.keys(patch).length) await this.db.run(tx, (q) => q.update(clusters).set(patch).where(eq(clusters.id, id)));
      if (outputs) {
        await this.db.run(tx, (q) => q.delete(speakerOutputs).where(eq(speakerOutputs.clusterId, id)));
        await this.db.run(tx, (q) => q.insert(speakerOutputs).values(outputs));
      }
    }, outer);
  }

  async delete(id: string, tx?: Tx): Promise<void> {
    const { clusters } = this.db.t;
    await this.db.run(tx, (q) => q.delete(clusters).where(eq(clusters.id, id)));
  }

  async setCredential(clusterId: string, secretHash: string | null, at: number, revoked: boolean, tx?: Tx): Promise<void> {
    const { deviceCredentials } = this.db.t;
    await this.db.run(tx, (q) =>
      q
        .update(deviceCredentials)
        .set(revoked ? { secretHash: null, revokedAt: at } : { secretHash, issuedAt: at, revokedAt: null })
        .where(eq(deviceCredentials.clusterId, clusterId)),
    );
  }

  /**
   * Writes clusters' latest state (what the health store changed, at each telemetry flush). On SQLite a statement
   * prepared once: a flush after an outage writes the whole fleet's. Atomic only inside a caller's transaction.
   */
  async saveStates(states: StateRow[], tx?: Tx): Promise<void> {
    const sqlite = this.db.sqlite;
    if (!sqlite) {
      const { clusterState } = this.db.t;
      for (const s of states) {
        const { clusterId, ...rest } = s;
        await this.db.run(tx, (q) => q.update(clusterState).set(rest).where(eq(clusterState.clusterId, clusterId)));
      }
      return;
    }
    const update = (this.updateState ??= sqlite.prepare(
      'update cluster_state set online = ?, last_seen = ?, changed_at = ?, telemetry = ?, telemetry_at = ?, birth = ?, fault_count = ?, malformed_count = ? where cluster_id = ?',
    ));
    const json = (v: unknown) => (v ? JSON.stringify(v) : null);
    await this.db.run(tx, () => {
      for (const s of states) {
        update.run(s.online ? 1 : 0, s.lastSeen, s.changedAt, json(s.telemetry), s.telemetryAt, json(s.birth), s.faultCount, s.malformedCount, s.clusterId);
      }
    });
  }
}
