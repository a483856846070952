import type { Clock } from '../shared/clock.ts';
import type { JobRow, JobsRepo } from './jobs.repo.ts';

export interface JobSpec {
  name: string;
  intervalMs: number;
  run: () => void | Promise<unknown>;
}

/**
 * A run holds its job for this long and renews it while it works, so a server killed mid-run blocks the job for
 * at most this long after its restart (the planner still plans what came due meanwhile: up to a minute late).
 */
export const LEASE_MS = 30_000;
const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * Periodic work that must not be lost to a restart (the planner, the broadcast window): due times, attempts and
 * the last error live in the job table, so a server killed mid-run picks the job up again once its lease runs out,
 * and a failing job is retried with back-off and says why. Jobs whose loss costs nothing (flushes, sweeps) stay on
 * plain timers in jobs.ts.
 */
export class JobRunner {
  private specs = new Map<string, JobSpec>();
  private running = new Set<string>();
  /** Triggered while running: what the run saw may be older than the trigger, so it runs once more. */
  private again = new Set<string>();

  constructor(
    private repo: JobsRepo,
    private clock: Clock,
    private onError: (name: string, err: unknown) => void = () => undefined,
  ) {}

  /** Known at once; its row is written when the promise resolves (until then a tick does not run it). */
  register(spec: JobSpec): Promise<void> {
    this.specs.set(spec.name, spec);
    return this.repo.ensure(spec.name, spec.intervalMs, this.clock.now());
  }

  /** Makes a job due now, e.g. the planner after a programme changed: the next tick runs it. */
  async trigger(name: string): Promise<void> {
    const due = this.repo.due(name, this.clock.now());
    // Noted now, not after the write: a run that ends meanwhile still sees the trigger.
    if (this.running.has(name)) this.again.add(name);
    await due;
  }

  /** Runs every job that is due, each once; resolves when they have finished. */
  async runDue(): Promise<string[]> {
    const now = this.clock.now();
    const ran: string[] = [];
    for (const spec of this.specs.values()) {
      if (this.running.has(spec.name) || !(await this.repo.claim(spec.name, now, LEASE_MS))) continue;
      ran.push(spec.name);
      this.running.add(spec.name);
      const renew = setInterval(() => void this.repo.renew(spec.name, this.clock.now() + LEASE_MS).catch((err: unknown) => this.onError(spec.name, err)), LEASE_MS / 3);
      renew.unref();
      try {
        await spec.run();
        const done = this.clock.now();
        await this.repo.succeeded(spec.name, done, done + spec.intervalMs);
      } catch (err) {
        const attempts = (await this.repo.attempts(spec.name)) + 1;
        await this.repo.failed(spec.name, err instanceof Error ? err.message : String(err), this.clock.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts, spec.intervalMs));
        this.onError(spec.name, err);
      } finally {
        clearInterval(renew);
        this.running.delete(spec.name);
        // The end of the run set the next due time over the trigger's; the trigger stands.
        if (this.again.delete(spec.name)) await this.repo.due(spec.name, this.clock.now());
      }
    }
    return ran;
  }

  list(): Promise<JobRow[]> {
    return this.repo.all();
  }
}
