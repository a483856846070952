import type { FastifyBaseLogger } from 'fastify';
import type { Services } from './services.ts';
import type { Leadership } from './jobs/leader.ts';
import { heartbeatTimeoutMs } from './config.ts';
import { pruneRecordings } from './live/recording-retention.ts';

/**
 * Periodic work of the server. Each job is cheap and catches its own errors so one failure cannot stop the rest.
 * Work that must survive a restart — the planner, the broadcast window — runs from the durable job table
 * (jobs/job-runner.ts), ticked here; the rest are plain timers whose loss costs nothing.
 */
export function startBackgroundJobs(s: Services, log: FastifyBaseLogger, leadership?: Leadership): () => Promise<void> {
  // With several instances on one database, work that must happen once runs on the leader only; what each instance
  // holds for itself (its telemetry buffer, its health store) it keeps doing (docs/architecture.md §2).
  const leading = () => !leadership || leadership.isLeader;
  // Runs in flight, so that stopping waits for them: a run must not outlive the database it writes to.
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };
  const failed = (name: string) => (err: unknown) => log.error({ err, job: name }, 'background job failed');
  // A run still going when the next is due (a slow database) is not doubled: that tick is skipped.
  const every = (ms: number, name: string, fn: () => unknown, scope: 'leader' | 'instance' = 'leader') => {
    let running = false;
    const t = setInterval(() => {
      if (running || (scope === 'leader' && !leading())) return;
      running = true;
      void track(Promise.resolve().then(fn).catch(failed(name)).finally(() => (running = false)));
    }, ms);
    t.unref();
    return t;
  };
  const timers = [
    every(500, 'telemetry-flush', async () => s.metrics.telemetryRows.inc(await s.telemetry.flush((ms) => s.metrics.telemetryPersistLatency.observe(ms / 1000))), 'instance'),
    // each instance's health store sweeps itself until presence is shared (§2 "Presence")
    every(2_000, 'presence-sweep', () => s.presence.sweep(), 'instance'),
    every(5_000, 'command-expiry', () => s.commands.expire()),
    every(3_600_000, 'telemetry-retention', () => s.telemetry.prune(s.config.LOA_TELEMETRY_RETENTION_DAYS)),
    every(3_600_000, 'session-cleanup', () => s.accounts.pruneSessions()),
    every(2_000, 'broadcast-progress', () => s.broadcasts.progress()),
    every(60_000, 'offline-alarms', () => s.alarms.sweepOffline(heartbeatTimeoutMs(s.config))),
    every(3_600_000, 'manifest-prune', () => s.manifests.prune()),
    every(600_000, 'content-prune', () => s.content.prune()),
    every(3_600_000, 'recording-retention', () => pruneRecordings(s)),
  ];
  // Relays start a little before their slot and stop after it; cheap when nothing is live.
  let liveTicking = false;
  const live = setInterval(() => {
    if (liveTicking || !leading()) return;
    liveTicking = true;
    void track(s.live
      .tick()
      .catch((err) => log.error({ err, job: 'live' }, 'live streams not started'))
      .finally(() => (liveTicking = false)));
  }, 1_000);
  live.unref();
  // Registered at once; a job's row is written a moment later (a tick before that does not run it yet).
  for (const spec of [
    { name: 'planner', intervalMs: 60_000, run: () => s.planner.run() },
    { name: 'broadcast-window', intervalMs: 60_000, run: () => s.broadcasts.deliverDue() },
  ]) void track(s.jobs.register(spec).catch((err: unknown) => log.error({ err, job: spec.name }, 'durable job not registered')));
  let ticking = false;
  const tick = setInterval(() => {
    if (ticking || !leading()) return;
    ticking = true;
    void track(s.jobs
      .runDue()
      .catch((err) => log.error({ err }, 'durable jobs not run'))
      .finally(() => (ticking = false)));
  }, 1_000);
  tick.unref();
  // A programme, an area's rules or the registry changed: the planner replans within a second, not at its next minute.
  const offPlan = (['programme.changed', 'area.policy_changed', 'registry.changed'] as const).map((ev) => s.bus.on(ev, () => void track(s.jobs.trigger('planner').catch((err: unknown) => log.error({ err, job: 'planner' }, 'planner not triggered')))));
  // Proof of play moves a broadcast to 'airing' and 'done'; react within a moment rather than at the next tick.
  let pending: NodeJS.Timeout | null = null;
  const offAiring = s.bus.on('airing.report', () => {
    if (!leading()) return;
    pending ??= setTimeout(() => {
      pending = null;
      void track(Promise.resolve().then(() => s.broadcasts.progress()).catch(failed('broadcast-progress')));
    }, 200);
  });
  return async () => {
    timers.forEach(clearInterval);
    clearInterval(tick);
    clearInterval(live);
    offPlan.forEach((off) => off());
    offAiring();
    if (pending) clearTimeout(pending);
    await Promise.allSettled([...inflight]);
  };
}
