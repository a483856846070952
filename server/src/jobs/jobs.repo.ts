import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import { first, type Db, type Tx } from '../db/client.ts';
import type { jobs } from '../db/schema.ts';

export type JobRow = typeof jobs.$inferSelect;

/** The durable job table: the only SQL about jobs. */
export class JobsRepo {
  constructor(private db: Db) {}

  /** Registers a job; an existing row keeps its due time, so a restart continues the schedule rather than resetting it. */
  async ensure(name: string, intervalMs: number, dueAt: number, tx?: Tx): Promise<void> {
    const { jobs } = this.db.t;
    await this.db.run(tx, (q) => q.insert(jobs).values({ name, intervalMs, dueAt }).onConflictDoUpdate({ target: jobs.name, set: { intervalMs } }));
  }

  all(tx?: Tx): Promise<JobRow[]> {
    return this.db.run(tx, (q) => q.select().from(this.db.t.jobs));
  }

  /**
   * Takes a due job whose lease has run out (a runner that died mid-run leaves one) in one statement, so two
   * runners — two processes on one database — never both take it.
   */
  async claim(name: string, now: number, leaseMs: number, tx?: Tx): Promise<boolean> {
    const { jobs } = this.db.t;
    const taken = await this.db.run(tx, (q) =>
      q
        .update(jobs)
        .set({ leaseUntil: now + leaseMs, lastRunAt: now })
        .where(and(eq(jobs.name, name), lte(jobs.dueAt, now), or(isNull(jobs.leaseUntil), lte(jobs.leaseUntil, now))))
        .returning({ name: jobs.name }),
    );
    return taken.length === 1;
  }

  /** A long run keeps its lease. */
  async renew(name: string, leaseUntil: number, tx?: Tx): Promise<void> {
    const { jobs } = this.db.t;
    await this.db.run(tx, (q) => q.update(jobs).set({ leaseUntil }).where(eq(jobs.name, name)));
  }

  async succeeded(name: string, now: number, nextDue: number, tx?: Tx): Promise<void> {
    const { jobs } = this.db.t;
    await this.db.run(tx, (q) => q.update(jobs).set({ dueAt: nextDue, attempts: 0, lastError: null, lastOkAt: now, leaseUntil: null }).where(eq(jobs.name, name)));
  }

  /** One statement (the count is incremented by the database), so no other runner's write comes between a read and it. */
  async failed(name: string, error: string, nextDue: number, tx?: Tx): Promise<void> {
    const { jobs } = this.db.t;
    await this.db.run(tx, (q) =>
      q
        .update(jobs)
        .set({ dueAt: nextDue, attempts: sql`${jobs.attempts} + 1`, lastError: error.slice(0, 2000), leaseUntil: null })
        .where(eq(jobs.name, name)),
    );
  }

  /** Due now: the next tick runs it (a programme changed, say). */
  async due(name: string, at: number, tx?: Tx): Promise<void> {
    const { jobs } = this.db.t;
    await this.db.run(tx, (q) => q.update(jobs).set({ dueAt: at }).where(and(eq(jobs.name, name))));
  }

  async attempts(name: string, tx?: Tx): Promise<number> {
    const { jobs } = this.db.t;
    const row = await this.db.run(tx, (q) => q.select({ attempts: jobs.attempts }).from(jobs).where(eq(jobs.name, name)).limit(1)).then(first);
    return row?.attempts ?? 0;
  }
}
