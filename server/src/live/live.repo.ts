import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { liveRecordings, liveSessions, liveSwitches, relaySources } from '../db/schema.ts';
import type { StreamSwitch } from '../../../schemas/api/live.ts';

export type RelaySourceRow = typeof relaySources.$inferSelect;
export type LiveSessionRow = typeof liveSessions.$inferSelect;

/** The live capability's tables: relay sources, microphone sessions, recordings of what aired, input switches. */
export class LiveRepo {
  constructor(private db: Db) {}

  sources(areaIds?: string[]): RelaySourceRow[] {
    const q = this.db.select().from(relaySources);
    return (areaIds ? q.where(inArray(relaySources.areaId, areaIds)) : q).orderBy(relaySources.name).all();
  }

  source(id: string): RelaySourceRow | undefined {
    return this.db.select().from(relaySources).where(eq(relaySources.id, id)).get();
  }

  insertSource(row: RelaySourceRow): void {
    this.db.insert(relaySources).values(row).run();
  }

  updateSource(id: string, patch: Partial<RelaySourceRow>): void {
    this.db.update(relaySources).set(patch).where(eq(relaySources.id, id)).run();
  }

  deleteSource(id: string): void {
    this.db.delete(relaySources).where(eq(relaySources.id, id)).run();
  }

  session(id: string): LiveSessionRow | undefined {
    return this.db.select().from(liveSessions).where(eq(liveSessions.id, id)).get();
  }

  sessionsIn(state: string): LiveSessionRow[] {
    return this.db.select().from(liveSessions).where(eq(liveSessions.state, state)).all();
  }

  insertSession(row: LiveSessionRow): void {
    this.db.insert(liveSessions).values(row).run();
  }

  updateSession(id: string, patch: Partial<LiveSessionRow>): void {
    this.db.update(liveSessions).set(patch).where(eq(liveSessions.id, id)).run();
  }

  /** Sessions not ended whose broadcast this is (the broadcast was cancelled from elsewhere). */
  openSessionOf(broadcastId: string): LiveSessionRow | undefined {
    return this.db.select().from(liveSessions).where(and(eq(liveSessions.broadcastId, broadcastId), inArray(liveSessions.state, ['waiting', 'live']))).get();
  }

  addRecording(broadcastId: string, contentId: string, at: number): void {
    this.db.insert(liveRecordings).values({ broadcastId, contentId, createdAt: at }).onConflictDoNothing().run();
  }

  recordingOf(broadcastId: string): string | null {
    return this.db.select().from(liveRecordings).where(eq(liveRecordings.broadcastId, broadcastId)).orderBy(liveRecordings.createdAt).get()?.contentId ?? null;
  }

  recordingsBefore(at: number): { broadcastId: string; contentId: string }[] {
    return this.db.select({ broadcastId: liveRecordings.broadcastId, contentId: liveRecordings.contentId }).from(liveRecordings).where(lt(liveRecordings.createdAt, at)).all();
  }

  forgetRecording(broadcastId: string, contentId: string): void {
    this.db.delete(liveRecordings).where(and(eq(liveRecordings.broadcastId, broadcastId), eq(liveRecordings.contentId, contentId))).run();
  }

  addSwitch(broadcastId: string, sw: StreamSwitch): void {
    this.db.insert(liveSwitches).values({ broadcastId, at: Date.parse(sw.at), from: sw.from, to: sw.to, reason: sw.reason }).run();
  }

  /** The latest `limit` switches of a broadcast, oldest first. */
  switchesOf(broadcastId: string, limit = 50): StreamSwitch[] {
    const rows = this.db.select().from(liveSwitches).where(eq(liveSwitches.broadcastId, broadcastId)).orderBy(desc(liveSwitches.at), desc(liveSwitches.id)).limit(limit).all();
    return rows.reverse().map((r) => ({ at: new Date(r.at).toISOString(), from: r.from, to: r.to, reason: r.reason }));
  }

  forgetSwitchesBefore(at: number): number {
    return this.db.delete(liveSwitches).where(lt(liveSwitches.at, at)).run().changes;
  }
}
