import { and, eq, lte, ne } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { sessions } from '../db/schema.ts';

export type SessionRow = typeof sessions.$inferSelect;

/** Sessions are keyed by the SHA-256 of their token; the token itself is never stored. */
export class SessionsRepo {
  constructor(private db: Db) {}

  async insert(row: SessionRow, tx?: Tx): Promise<void> {
    const { sessions } = this.db.t;
    await this.db.run(tx, (q) => q.insert(sessions).values(row));
  }
  /** Every signed-in request asks this: a primary-key hit. */
  get(tokenHash: string, tx?: Tx): Promise<SessionRow | null> {
    const { sessions } = this.db.t;
    return this.db.run(tx, (q) => q.select().from(sessions).where(eq(sessions.tokenHash, tokenHash)).limit(1)).then(first);
  }
  async delete(tokenHash: string, tx?: Tx): Promise<void> {
    const { sessions } = this.db.t;
    await this.db.run(tx, (q) => q.delete(sessions).where(eq(sessions.tokenHash, tokenHash)));
  }
  /** Every session of a user, except the one given (the caller's own, when it should survive); returns how many. */
  async deleteForUser(userId: string, keepTokenHash?: string, tx?: Tx): Promise<number> {
    const { sessions } = this.db.t;
    const where = keepTokenHash ? and(eq(sessions.userId, userId), ne(sessions.tokenHash, keepTokenHash)) : eq(sessions.userId, userId);
    return (await this.db.run(tx, (q) => q.delete(sessions).where(where).returning({ tokenHash: sessions.tokenHash }))).length;
  }
  /** Returns how many expired. */
  async deleteExpired(now: number, tx?: Tx): Promise<number> {
    const { sessions } = this.db.t;
    return (await this.db.run(tx, (q) => q.delete(sessions).where(lte(sessions.expiresAt, now)).returning({ tokenHash: sessions.tokenHash }))).length;
  }
}
