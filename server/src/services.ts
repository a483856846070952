import type { Config } from './config.ts';
import { heartbeatTimeoutMs } from './config.ts';
import type { Db } from './db/client.ts';
import { transactor } from './db/tx.ts';
import { shareCaches, shareEvents } from './shared/instance-changes.ts';
import { AreasRepo } from './areas/areas.repo.ts';
import { AreasService } from './areas/areas.service.ts';
import { AuditRepo } from './audit/audit.repo.ts';
import { AuditService } from './audit/audit.service.ts';
import { AccountsService } from './accounts/accounts.service.ts';
import { SessionsRepo } from './accounts/sessions.repo.ts';
import { UsersRepo } from './accounts/users.repo.ts';
import { ClustersRepo } from './devices/clusters.repo.ts';
import { ClustersService } from './devices/clusters.service.ts';
import { DeviceConfigService } from './devices/device-config.service.ts';
import { DeviceDirectory } from './devices/directory.ts';
import { CommandsRepo } from './commands/commands.repo.ts';
import { CommandsService } from './commands/commands.service.ts';
import { HealthStore } from './health/health.store.ts';
import { PresenceService } from './health/presence.service.ts';
import { TelemetryRepo } from './health/telemetry.repo.ts';
import { TelemetryService } from './health/telemetry.service.ts';
import { DeviceEventsRepo } from './health/device-events.repo.ts';
import { DeviceEventsService } from './health/device-events.service.ts';
import type { Publisher } from './mqtt/publisher.ts';
import { Bus } from './shared/bus.ts';
import type { Clock } from './shared/clock.ts';
import { Metrics } from './ops/metrics.ts';
import { RollupService } from './health/rollup.service.ts';
import { ContentRepo } from './content/content.repo.ts';
import { ContentService, type ContentUse } from './content/content.service.ts';
import { ContentStore } from './content/content-store.ts';
import { useFfmpeg } from './content/ffmpeg.ts';
import { joinContent } from './content/playlist.ts';
import { createTts } from './tts/engines.ts';
import { PronunciationsRepo } from './tts/pronunciations.repo.ts';
import { PronunciationsService } from './tts/pronunciations.service.ts';
import { TtsCacheRepo } from './tts/tts-cache.repo.ts';
import { ManifestsRepo } from './broadcasts/manifests.repo.ts';
import { ManifestService } from './broadcasts/manifest.service.ts';
import { AiringsRepo } from './broadcasts/airings.repo.ts';
import { AiringsService } from './broadcasts/airings.service.ts';
import { Delivery } from './broadcasts/delivery.ts';
import { BroadcastsRepo } from './broadcasts/broadcasts.repo.ts';
import { BroadcastsService } from './broadcasts/broadcasts.service.ts';
import { Backlog } from './shared/backlog.ts';
import { createAlarms } from './alarms/alarms.ts';
import { resolveTargets } from './broadcasts/targets.ts';
import { systemActor } from './shared/actor.ts';
import { JobRunner } from './jobs/job-runner.ts';
import { JobsRepo } from './jobs/jobs.repo.ts';
import { ProgrammesRepo } from './programmes/programmes.repo.ts';
import { OccurrencesRepo } from './programmes/occurrences.repo.ts';
import { ProgrammeCatalog } from './programmes/catalog.ts';
import { ProgrammeChecks } from './programmes/checks.ts';
import { ProgrammesService } from './programmes/programmes.service.ts';
import { Planner } from './programmes/planner.ts';
import { TimetableService } from './timetable/timetable.service.ts';
import pino, { type Logger } from 'pino';
import { ffmpegPath } from './content/ffmpeg.ts';
import { LiveRepo } from './live/live.repo.ts';
import { LiveService } from './live/live.service.ts';
import { LiveSessionsService } from './live/live-sessions.service.ts';
import { RelaySourcesService } from './live/relay-sources.service.ts';
import { icecastTarget } from './live/icecast-target.ts';

/** The composition root: every service, wired once. Transports (HTTP, MQTT) receive this and stay thin. */
export interface ServiceOptions {
  /** where failures of background work are told; tests leave it out */
  log?: { error(obj: object, msg: string): void };
  /** the live streams' logger (switches, encoder failures); silent when left out */
  logger?: Logger;
  /** how deferred delivery bookkeeping is scheduled (a crash test holds it back) */
  scheduleBacklog?: (run: () => void) => void;
}

export async function createServices(config: Config, db: Db, clock: Clock, publisher: Publisher, opts: ServiceOptions = {}) {
  const bus = new Bus();
  // What other instances on the database emitted, for the few that wait on it (shared/instance-changes.ts)
  const remote = new Bus();
  const metrics = new Metrics();
  const backlog = new Backlog((err) => {
    metrics.backlogErrors.inc();
    opts.log?.error({ err }, 'deferred delivery bookkeeping failed');
  }, opts.scheduleBacklog);
  const audit = new AuditService(new AuditRepo(db), clock);
  const areaWrites = new Set<() => void>();
  const areas = new AreasService(new AreasRepo(db), { timeZone: config.LOA_TIMEZONE, quietHours: config.LOA_QUIET_HOURS }, (areaId) => bus.emit('area.policy_changed', { areaId }), () => areaWrites.forEach((f) => f()));
  const directory = new DeviceDirectory(areas);
  const health = new HealthStore();
  const clustersRepo = new ClustersRepo(db);
  const clusters = new ClustersService(clustersRepo, areas, directory, health, audit, bus, clock);
  const rollup = new RollupService(areas, clusters, health);
  const presence = new PresenceService(health, directory, bus, clock, heartbeatTimeoutMs(config));
  const telemetry = new TelemetryService({ points: new TelemetryRepo(db), states: clustersRepo, transact: transactor(db) }, health, directory, bus, clock, 60_000, {
    maxBuffered: config.LOA_TELEMETRY_MAX_BUFFERED,
    onDropped: () => metrics.telemetryDropped.inc(),
  });
  const deviceEvents = new DeviceEventsService(new DeviceEventsRepo(db), directory, bus);
  const deviceConfig = new DeviceConfigService(directory, publisher, clock, {
    telemetryIntervalS: config.LOA_TELEMETRY_INTERVAL_S,
    timeSyncIntervalS: config.LOA_TIME_SYNC_INTERVAL_S,
    emergencyVolume: config.LOA_EMERGENCY_VOLUME,
  });
  const commands = new CommandsService(new CommandsRepo(db), publisher, bus, clock, remote);
  const accounts = new AccountsService(new UsersRepo(db), new SessionsRepo(db), areas, audit, clock, {
    sessionTtlH: config.LOA_SESSION_TTL_H,
    adminPassword: config.LOA_ADMIN_PASSWORD,
  });
  useFfmpeg(config.LOA_FFMPEG);
  const contentStore = new ContentStore(config.LOA_DATA_DIR);
  const ttsCache = new TtsCacheRepo(db);
  const content = new ContentService(new ContentRepo(db), contentStore, audit, clock, {
    maxUploadBytes: config.LOA_MAX_UPLOAD_MB * 1024 * 1024,
    maxDurationS: config.LOA_MAX_AUDIO_S,
    concurrency: config.LOA_TRANSCODE_CONCURRENCY,
  }, {
    // Called only once a request or job runs, when everything below exists.
    broadcastsUsing: async (id: string): Promise<ContentUse[]> => [...(await broadcasts.usingContent(id)), ...(await programmes.usingContent(id))],
    inManifests: (sha256: string) => manifests.holdsContent(sha256),
    forget: (id: string) => ttsCache.deleteByContent(id),
    lastAired: (ids: string[]) => broadcasts.lastAired(ids),
    people: (userIds: string[]) => accounts.namesOf(userIds),
  });
  await content.start(); // before any upload: marks failed what a crash left unfinished
  const pronunciations = new PronunciationsService(new PronunciationsRepo(db), areas, audit, clock);
  const tts = createTts(config, db, content, clock, pronunciations);
  const settle = () => backlog.settle();
  const playable = { playable: (id: string) => content.playable(id), join: (ids: string[], actor: Parameters<typeof joinContent>[2], title: string) => joinContent(content, ids, actor, title) };
  const manifests = new ManifestService(new ManifestsRepo(db), publisher, clock, settle);
  const airings = new AiringsService(new AiringsRepo(db), bus, clock, settle);
  const broadcasts: BroadcastsService = new BroadcastsService(
    new BroadcastsRepo(db),
    new Delivery(publisher, manifests, airings, backlog, (to, err) => {
      metrics.backlogErrors.inc();
      opts.log?.error({ err, to }, 'play order or manifest not sent');
    }, (clusterId) => {
      // No birth seen yet: assume the current protocol; a v1.1 birth (no features) refuses stream items.
      const birth = health.peek(clusterId)?.birth as { features?: string[] } | null | undefined;
      return !birth || (birth.features ?? []).includes('stream');
    }),
    airings,
    areas,
    clusters,
    rollup,
    playable,
    tts,
    audit,
    bus,
    clock,
    { syncLeadMs: config.LOA_SYNC_LEAD_MS, graceMs: config.LOA_BROADCAST_GRACE_S * 1000 },
    (username) => accounts.displayNameOf(username),
  );
  const programmesRepo = new ProgrammesRepo(db);
  const ledger = new OccurrencesRepo(db);
  const catalog = new ProgrammeCatalog(programmesRepo, areas, (body) => {
    try {
      return resolveTargets(body.targets, systemActor(), areas, clusters, rollup);
    } catch {
      return null; // every targeted cluster was removed since
    }
  });
  const programmes = new ProgrammesService(
    programmesRepo,
    catalog,
    new ProgrammeChecks(catalog, broadcasts, (id) => clusters.nameOf(id)),
    areas,
    (body, actor) => resolveTargets(body.targets, actor, areas, clusters, rollup),
    playable,
    tts,
    audit,
    bus,
    clock,
    (username) => accounts.displayNameOf(username),
  );
  const liveRepo = new LiveRepo(db);
  const logger = opts.logger ?? pino({ level: 'silent' });
  const live = new LiveService(liveRepo, {
    relayBroadcasts: async (from, to) => (await broadcasts.startingBetween(from, to, ['scheduled', 'airing'], true)).filter((r) => r.source && typeof r.source === 'object' && 'relay' in r.source),
    holdsStream: async (url, clusterId) => manifests.holdsStream(url, clusterId),
    fillerPath: async (contentId) => {
      try {
        return (await content.audioFile(contentId)).path;
      } catch {
        return null; // deleted or not ready: silence instead
      }
    },
    adoptRecording: async (file, title, durationMs) => (await content.adopt(file, { title, durationMs, source: 'recording' }, systemActor('live'))).id,
    source: (id) => liveRepo.source(id),
  }, bus, clock, logger, { ffmpeg: ffmpegPath, dataDir: config.LOA_DATA_DIR, latencyMs: config.LOA_LIVE_LATENCY_MS, icecast: icecastTarget(config.LOA_ICECAST_URL) });
  const relaySources = new RelaySourcesService(liveRepo, areas, audit, clock, {
    fillerPlayable: (id) => content.playable(id),
    status: (id) => live.sourceStatus(id),
    usedBy: async (id) => {
      const now = clock.now();
      const airing = (await broadcasts.startingBetween(now - 86_400_000, now + 366 * 86_400_000, ['pending_approval', 'scheduled', 'airing'], true))
        .filter((r) => (r.source as { relay?: { sourceId: string } }).relay?.sourceId === id).map((r) => r.title);
      return [...new Set([...airing, ...(await programmes.relaying(id))])];
    },
  });
  broadcasts.useLive({
    checkRelay: async (sourceId, areaIds, actor) => {
      await relaySources.checkUsable(sourceId, areaIds, actor, 'body/source/relay/sourceId');
    },
    spec: (row) => live.specFor(row),
    view: (row, counts) => live.viewOf(row, counts),
    release: (id) => live.release(id),
    maxLiveMs: config.LOA_LIVE_MAX_S * 1000,
  });
  programmes.useRelays((sourceId, areaIds, actor) => relaySources.checkUsable(sourceId, areaIds, actor, 'body/items/0/sourceId'));
  const liveSessions = new LiveSessionsService(liveRepo, live, broadcasts, bus, clock, logger, { ffmpeg: ffmpegPath, maxMs: config.LOA_LIVE_MAX_S * 1000 });
  await liveSessions.start(); // ends the sessions a restart cut off
  const isPlayable = async (id: string) => {
    // A relay programme's occurrence needs its source, as a file programme's needs its content.
    if (id.startsWith('relay:')) return (await liveRepo.source(id.slice('relay:'.length))) !== undefined;
    try {
      await content.playable(id);
      return true;
    } catch {
      return false;
    }
  };
  const planner = new Planner(catalog, ledger, broadcasts, clock, isPlayable, config.LOA_PLANNER_HORIZON_H * 3_600_000);
  const timetable = new TimetableService(catalog, ledger, broadcasts, airings, areas, clusters, rollup, clock);
  const jobs = new JobRunner(new JobsRepo(db), clock, (job, err) => opts.log?.error({ err, job }, 'durable job failed'));
  // What the catalog resolved (targets, areas' rules) is stale once any of them changes.
  for (const ev of ['registry.changed', 'area.policy_changed', 'programme.changed'] as const) bus.on(ev, () => catalog.invalidate());
  bus.on('area.policy_changed', () => planner.quietHoursChanged());
  const alarms = createAlarms(db, bus, clock, { areas, directory, clusters, health, telemetry, accounts, audit }, (err) => opts.log?.error({ err }, 'alarm bookkeeping failed'));
  // Caches loaded from the database, in dependency order (areas before the clusters placed in them).
  await areas.start();
  await clusters.start();
  await alarms.start(); // after the clusters: catches up with the faults of the health store they loaded, then listens
  // Beside other instances on one database: their registry and area changes reach these caches.
  const stopSharing = await shareCaches(db, {
    bus,
    refreshClusters: (ids) => clusters.refresh(ids),
    reloadAreas: () => areas.reload(),
    invalidate: () => catalog.invalidate(),
  }, (f) => areaWrites.add(f), (err) => opts.log?.error({ err }, 'a change made on another instance was not applied here'));
  // What consoles watch that happened on another instance (their event streams listen to `remote` too).
  const stopEvents = await shareEvents(db, bus, remote, (err) => opts.log?.error({ err }, 'an event was not shared with the other instances'));
  // A programme saved or approved on another instance: the leader's planner must not plan from the old catalog.
  remote.on('programme.changed', () => catalog.invalidate());
  const stopShared = async () => {
    await stopEvents();
    await stopSharing();
  };
  return { stopSharing: stopShared, remote, config, db, clock, bus, metrics, backlog, audit, areas, directory, health, clusters, rollup, presence, telemetry, deviceEvents, deviceConfig, commands, accounts, contentStore, content, tts, pronunciations, manifests, airings, broadcasts, alarms, programmes, catalog, ledger, planner, timetable, jobs, live, liveRepo, liveSessions, relaySources };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
