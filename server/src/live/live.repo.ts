import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { liveSessions, relaySources } from '../db/schema.ts';
import type { StreamSwitch } from '../../../schemas/api/live.ts';

export type RelaySourceRow = typeof relaySources.$inferSelect;
export type LiveSessionRow = typeof liveSessions.$inferSelect;

/** The live capability's tables: relay sources, microphone sessions, recordings of what aired, input switches. */
export class LiveRepo {
  constructor(private db: Db) {}

  sources(areaIds?: string[], tx?: Tx): Promise<RelaySourceRow[]> {
    const { relaySources } = this.db.t;
    return this.db.run(tx, (q) => {
      const s = q.select().from(relaySources);
      return (areaIds ? s.where(inArray(relaySources.areaId, areaIds)) : s).orderBy(relaySources.name);
    });
  }

  async source(id: string, tx?: Tx): Promise<RelaySourceRow | undefined> {
    const { relaySources } = this.db.t;
    return (await this.db.run(tx, (q) => q.select().from(relaySources).where(eq(relaySources.id, id)).limit(1)).then(first)) ?? undefined;
  }

  async insertSource(row: RelaySourceRow, tx?: Tx): Promise<void> {
    const { relaySources } = this.db.t;
    await this.db.run(tx, (q) => q.insert(relaySources).values(row));
  }

  async updateSource(id: string, patch: Partial<RelaySourceRow>, tx?: Tx): Promise<void> {
    const { relaySources } = this.db.t;
    await this.db.run(tx, (q) => q.update(relaySources).set(patch).where(eq(relaySources.id, id)));
  }

  async deleteSource(id: string, tx?: Tx): Promise<void> {
    const { relaySources } = this.db.t;
    await this.db.run(tx, (q) => q.delete(relaySources).where(eq(relaySources.id, id)));
  }

  async session(id: string, tx?: Tx): Promise<LiveSessionRow | undefined> {
    const { liveSessions } = this.db.t;
    return (await this.db.run(tx, (q) => q.select().from(liveSessions).where(eq(liveSessions.id, id)).limit(1)).then(first)) ?? undefined;
  }

  sessionsIn(state: string, tx?: Tx): Promise<LiveSessionRow[]> {
    const { liveSessions } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(liveSessions).where(eq(liveSessions.state, state)));
  }

  async insertSession(row: LiveSessionRow, tx?: Tx): Promise<void> {
    const { liveSessions } = this.db.t;
    await this.db.run(tx, (q) => q.insert(liveSessions).values(row));
  }

  async updateSession(id: string, patch: Partial<LiveSessionRow>, tx?: Tx): Promise<void> {
    const { liveSessions } = this.db.t;
    await this.db.run(tx, (q) => q.update(liveSessions).set(patch).where(eq(liveSessions.id, id)));
  }

  /**
   * Updates the session only while it is in one of `states`; whether it was. One statement, so two callers that
   * both saw the session open cannot both move it on (only one finishes it).
   */
  async updateSessionIn(id: string, states: string[], patch: Partial<LiveSessionRow>, tx?: Tx): Promise<boolean> {
    const { liveSessions } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.update(liveSessions).set(patch).where(and(eq(liveSessions.id, id), inArray(liveSessions.state, states))).returning({ id: liveSessions.id }));
    return rows.length > 0;
  }

  /** Sessions not ended whose broadcast this is (the broadcast was cancelled from elsewhere). */
  async openSessionOf(broadcastId: string, tx?: Tx): Promise<LiveSessionRow | undefined> {
    const { liveSessions } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.select().from(liveSessions).where(and(eq(liveSessions.broadcastId, broadcastId), inArray(liveSessions.state, ['waiting', 'live']))).limit(1));
    return first(rows) ?? undefined;
  }

  async addRecording(broadcastId: string, contentId: string, at: number, tx?: Tx): Promise<void> {
    const { liveRecordings } = this.db.t;
    await this.db.run(tx, (q) => q.insert(liveRecordings).values({ broadcastId, contentId, createdAt: at }).onConflictDoNothing());
  }

  async recordingOf(broadcastId: string, tx?: Tx): Promise<string | null> {
    const { liveRecordings } = this.db.t;
    const row = await this.db.run(tx, (q) => q.select().from(liveRecordings).where(eq(liveRecordings.broadcastId, broadcastId)).orderBy(liveRecordings.createdAt).limit(1)).then(first);
    return row?.contentId ?? null;
  }

  recordingsBefore(at: number, tx?: Tx): Promise<{ broadcastId: string; contentId: string }[]> {
    const { liveRecordings } = this.db.t;
    return this.db.run(tx, (q) => q.select({ broadcastId: liveRecordings.broadcastId, contentId: liveRecordings.contentId }).from(liveRecordings).where(lt(liveRecordings.createdAt, at)));
  }

  async forgetRecording(broadcastId: string, contentId: string, tx?: Tx): Promise<void> {
    const { liveRecordings } = this.db.t;
    await this.db.run(tx, (q) => q.delete(liveRecordings).where(and(eq(liveRecordings.broadcastId, broadcastId), eq(liveRecordings.contentId, contentId))));
  }

  async addSwitch(broadcastId: string, sw: StreamSwitch, tx?: Tx): Promise<void> {
    const { liveSwitches } = this.db.t;
    await this.db.run(tx, (q) => q.insert(liveSwitches).values({ broadcastId, at: Date.parse(sw.at), from: sw.from, to: sw.to, reason: sw.reason }));
  }

  /** The latest `limit` switches of a broadcast, oldest first. */
  async switchesOf(broadcastId: string, limit = 50, tx?: Tx): Promise<StreamSwitch[]> {
    const { liveSwitches } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.select().from(liveSwitches).where(eq(liveSwitches.broadcastId, broadcastId)).orderBy(desc(liveSwitches.at), desc(liveSwitches.id)).limit(limit));
    return rows.reverse().map((r) => ({ at: new Date(r.at).toISOString(), from: r.from, to: r.to, reason: r.reason }));
  }

  /** Returns how many. */
  async forgetSwitchesBefore(at: number, tx?: Tx): Promise<number> {
    const { liveSwitches } = this.db.t;
    const rows = await this.db.run(tx, (q) => q.delete(liveSwitches).where(lt(liveSwitches.at, at)).returning({ id: liveSwitches.id }));
    return rows.length;
  }
}
