import { asc, eq, inArray, sql, type SQLWrapper } from 'drizzle-orm';
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
   * Writes clusters' latest state (what the health store changed, at each telemetry flush), column by column and
   * never backwards: instances sharing the database each see part of a cluster's messages (the broker's shared
   * subscription), so each keeps what is newest — presence by its change time, telemetry and faults by the time the
   * telemetry was received, last seen as the later, the birth when one is known, the malformed count as the larger.
   * One instance alone always holds the newest, so there it writes what it holds. On SQLite a statement prepared
   * once: a flush after an outage writes the whole fleet's. Atomic only inside a caller's transaction.
   */
  async saveStates(states: StateRow[], tx?: Tx): Promise<void> {
    const json = (v: unknown) => (v ? JSON.stringify(v) : null);
    const sqlite = this.db.sqlite;
    if (!sqlite) {
      const { clusterState: cs } = this.db.t;
      for (const s of states) {
        const newer = (col: SQLWrapper, mine: number | null) => sql`coalesce(${mine}::bigint, 0) >= coalesce(${col}, 0)`;
        await this.db.run(tx, (q) =>
          q
            .update(cs)
            .set({
              online: sql`case when ${newer(cs.changedAt, s.changedAt)} then ${s.online} else ${cs.online} end`,
              changedAt: sql`case when ${newer(cs.changedAt, s.changedAt)} then ${s.changedAt}::bigint else ${cs.changedAt} end`,
              lastSeen: sql`case when ${newer(cs.lastSeen, s.lastSeen)} then ${s.lastSeen}::bigint else ${cs.lastSeen} end`,
              telemetry: sql`case when ${newer(cs.telemetryAt, s.telemetryAt)} then ${json(s.telemetry)}::jsonb else ${cs.telemetry} end`,
              faultCount: sql`case when ${newer(cs.telemetryAt, s.telemetryAt)} then ${s.faultCount} else ${cs.faultCount} end`,
              telemetryAt: sql`case when ${newer(cs.telemetryAt, s.telemetryAt)} then ${s.telemetryAt}::bigint else ${cs.telemetryAt} end`,
              birth: sql`coalesce(${json(s.birth)}::jsonb, ${cs.birth})`,
              malformedCount: sql`greatest(${cs.malformedCount}, ${s.malformedCount})`,
            })
            .where(eq(cs.clusterId, s.clusterId)),
        );
      }
      return;
    }
    // SET expressions see the row as it was before the update, in SQLite as in standard SQL.
    const update = (this.updateState ??= sqlite.prepare(
      `update cluster_state set
         online = case when coalesce(@changedAt, 0) >= coalesce(changed_at, 0) then @online else online end,
         changed_at = case when coalesce(@changedAt, 0) >= coalesce(changed_at, 0) then @changedAt else changed_at end,
         last_seen = case when coalesce(@lastSeen, 0) >= coalesce(last_seen, 0) then @lastSeen else last_seen end,
         telemetry = case when coalesce(@telemetryAt, 0) >= coalesce(telemetry_at, 0) then @telemetry else telemetry end,
         fault_count = case when coalesce(@telemetryAt, 0) >= coalesce(telemetry_at, 0) then @faultCount else fault_count end,
         telemetry_at = case when coalesce(@telemetryAt, 0) >= coalesce(telemetry_at, 0) then @telemetryAt else telemetry_at end,
         birth = coalesce(@birth, birth),
         malformed_count = max(malformed_count, @malformedCount)
       where cluster_id = @clusterId`,
    ));
    await this.db.run(tx, () => {
      for (const s of states) {
        update.run({ online: s.online ? 1 : 0, lastSeen: s.lastSeen, changedAt: s.changedAt, telemetry: json(s.telemetry), telemetryAt: s.telemetryAt, birth: json(s.birth), faultCount: s.faultCount, malformedCount: s.malformedCount, clusterId: s.clusterId });
      }
    });
  }
}
