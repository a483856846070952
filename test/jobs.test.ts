import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDb } from '../server/src/db/client.ts';
import { JobRunner, LEASE_MS } from '../server/src/jobs/job-runner.ts';
import { JobsRepo } from '../server/src/jobs/jobs.repo.ts';
import { fakeClock, testDir } from './helpers/services.ts';

/** The durable job table: due times, failures in a row with the last error, and leases, kept across restarts. */
describe('durable jobs', () => {
  it('runs a job when due, backs off when it fails and says why, and continues its schedule after a restart', async () => {
    const file = join(testDir('loa-jobs-'), 'jobs.sqlite');
    const clock = fakeClock();
    const db = createDb(file);
    const runner = new JobRunner(new JobsRepo(db), clock);
    let runs = 0;
    let fail = false;
    await runner.register({ name: 'planner', intervalMs: 60_000, run: () => { runs++; if (fail) throw new Error('disk full'); } });
    expect(await runner.runDue()).toEqual(['planner']);
    expect(await runner.runDue()).toEqual([]); // not due again for a minute
    clock.t += 60_000;
    fail = true;
    await runner.runDue();
    expect((await runner.list())[0]).toMatchObject({ attempts: 1, lastError: 'disk full', dueAt: clock.t + 2_000 });
    clock.t += 2_000;
    await runner.runDue();
    expect((await runner.list())[0]).toMatchObject({ attempts: 2, dueAt: clock.t + 4_000 });
    fail = false;
    await runner.trigger('planner');
    await runner.runDue();
    expect((await runner.list())[0]).toMatchObject({ attempts: 0, lastError: null, lastOkAt: clock.t, dueAt: clock.t + 60_000 });
    expect(runs).toBe(4);
    await db.close();

    // A restarted server keeps the schedule: registering again does not make the job due at once.
    const again = new JobRunner(new JobsRepo(createDb(file)), clock);
    await again.register({ name: 'planner', intervalMs: 60_000, run: () => void runs++ });
    expect(await again.runDue()).toEqual([]);
    clock.t += 60_000;
    expect(await again.runDue()).toEqual(['planner']);
  });

  it('runs a job again when it was triggered while running (a programme saved while the planner plans)', async () => {
    const clock = fakeClock();
    const db = createDb(join(testDir('loa-jobs-'), 'jobs.sqlite'));
    const runner = new JobRunner(new JobsRepo(db), clock);
    let runs = 0;
    await runner.register({ name: 'planner', intervalMs: 60_000, run: async () => { if (++runs === 1) await runner.trigger('planner'); } });
    expect(await runner.runDue()).toEqual(['planner']);
    // Due now, not in a minute: the change the trigger announced came after the run had read its data.
    expect((await runner.list())[0]!.dueAt).toBeLessThanOrEqual(clock.t);
    expect(await runner.runDue()).toEqual(['planner']);
    expect(runs).toBe(2);
    expect(await runner.runDue()).toEqual([]);
    await db.close();
  });

  it('lets one runner at a time take a job, and another take it once the first died holding its lease', async () => {
    const file = join(testDir('loa-jobs-'), 'jobs.sqlite');
    const clock = fakeClock();
    const a = new JobRunner(new JobsRepo(createDb(file)), clock);
    const b = new JobRunner(new JobsRepo(createDb(file)), clock);
    let release!: () => void;
    const ran: string[] = [];
    await a.register({ name: 'planner', intervalMs: 60_000, run: () => new Promise<void>((r) => ((release = r), ran.push('a'))) });
    await b.register({ name: 'planner', intervalMs: 60_000, run: () => void ran.push('b') });
    const first = a.runDue(); // takes the lease and hangs: the process "dies" holding it
    expect(await b.runDue()).toEqual([]);
    clock.t += LEASE_MS; // the lease runs out (a live run renews it; this one's process is gone)
    expect(await b.runDue()).toEqual(['planner']);
    expect(ran).toEqual(['a', 'b']);
    release();
    await first;
  });
});
