import { and, eq, lte, ne } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { sessions } from '../db/schema.ts';

export type SessionRow = typeof sessions.$inferSelect;

/** Sessions are keyed by the SHA-256 of their token; the token itself is never stored. */
export class SessionsRepo {
  constructor(private db: Db) {}

  insert(row: SessionRow): void {
    this.db.insert(sessions).values(row).run();
  }
  get(tokenHash: string): SessionRow | null {
    return this.db.select().from(sessions).where(eq(sessions.tokenHash, tokenHash)).get() ?? null;
  }
  delete(tokenHash: string): void {
    this.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash)).run();
  }
  /** Every session of a user, except the one given (the caller's own, when it should survive). */
  deleteForUser(userId: string, keepTokenHash?: string): number {
    const where = keepTokenHash ? and(eq(sessions.userId, userId), ne(sessions.tokenHash, keepTokenHash)) : eq(sessions.userId, userId);
    return this.db.delete(sessions).where(where).run().changes;
  }
  deleteExpired(now: number): number {
    return this.db.delete(sessions).where(lte(sessions.expiresAt, now)).run().changes;
  }
}
