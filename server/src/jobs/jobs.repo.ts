import { and, eq, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { jobs } from '../db/schema.ts';

export type JobRow = typeof jobs.$inferSelect;

/** The durable job table: the only SQL about jobs. */
export class JobsRepo {
  constructor(private db: Db) {}

  /** Registers a job; an existing row keeps its due time, so a restart continues the schedule rather than resetting it. */
  ensure(name: string, intervalMs: number, dueAt: number): void {
    this.db.insert(jobs).values({ name, intervalMs, dueAt }).onConflictDoUpdate({ target: jobs.name, set: { intervalMs } }).run();
  }

  all(): JobRow[] {
    return this.db.select().from(jobs).all();
  }

  /**
   * Takes a due job whose lease has run out (a runner that died mid-run leaves one) in one statement, so two
   * runners — two processes on one database — never both take it.
   */
  claim(name: string, now: number, leaseMs: number): boolean {
    const r = this.db
      .update(jobs)
      .set({ leaseUntil: now + leaseMs, lastRunAt: now })
      .where(and(eq(jobs.name, name), lte(jobs.dueAt, now), or(isNull(jobs.leaseUntil), lte(jobs.leaseUntil, now))))
      .run();
    return r.changes === 1;
  }

  /** A long run keeps its lease. */
  renew(name: string, leaseUntil: number): void {
    this.db.update(jobs).set({ leaseUntil }).where(eq(jobs.name, name)).run();
  }

  succeeded(name: string, now: number, nextDue: number): void {
    this.db.update(jobs).set({ dueAt: nextDue, attempts: 0, lastError: null, lastOkAt: now, leaseUntil: null }).where(eq(jobs.name, name)).run();
  }

  failed(name: string, error: string, nextDue: number): void {
    const row = this.db.select({ attempts: jobs.attempts }).from(jobs).where(eq(jobs.name, name)).get();
    this.db.update(jobs).set({ dueAt: nextDue, attempts: (row?.attempts ?? 0) + 1, lastError: error.slice(0, 2000), leaseUntil: null }).where(eq(jobs.name, name)).run();
  }

  /** Due now: the next tick runs it (a programme changed, say). */
  due(name: string, at: number): void {
    this.db.update(jobs).set({ dueAt: at }).where(and(eq(jobs.name, name))).run();
  }

  attempts(name: string): number {
    return this.db.select({ attempts: jobs.attempts }).from(jobs).where(eq(jobs.name, name)).get()?.attempts ?? 0;
  }
}
