import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import './http/types.ts';
import type { Config } from './config.ts';
import { LEADER_LOCK, openDb, type Db } from './db/client.ts';
import { Leadership } from './jobs/leader.ts';
import { listen, type Listener } from './mqtt/broker.ts';
import { createEmbeddedLink, type EmbeddedLink } from './mqtt/embedded-link.ts';
import { createExternalLink } from './mqtt/external-link.ts';
import type { DeviceLink } from './mqtt/device-link.ts';
import { installPolicy } from './mqtt/policy.ts';
import { attachDeviceHandlers } from './mqtt/device-handlers.ts';
import { createServices, type Services } from './services.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { installErrorHandler } from './http/error-handler.ts';
import { httpPlugins } from './http/plugins.ts';
import { authPlugin } from './accounts/auth.plugin.ts';
import { accountsRoutes } from './accounts/accounts.routes.ts';
import { areasRoutes } from './areas/areas.routes.ts';
import { clustersRoutes } from './devices/clusters.routes.ts';
import { deviceRoutes } from './devices/device.routes.ts';
import { icecastAuthRoutes } from './live/icecast-auth.routes.ts';
import { emqxHooksRoutes } from './mqtt/emqx-hooks.routes.ts';
import { healthRoutes } from './health/health.routes.ts';
import { opsRoutes } from './ops/ops.routes.ts';
import { commandsRoutes } from './commands/commands.routes.ts';
import { startBackgroundJobs } from './jobs.ts';
import { liveRoutes } from './live/live.routes.ts';
import type { Logger } from 'pino';
import { programmesRoutes } from './programmes/programmes.routes.ts';
import { timetableRoutes } from './timetable/timetable.routes.ts';
import { jobsRoutes } from './jobs/jobs.routes.ts';
import { contentRoutes } from './content/content.routes.ts';
import { ttsRoutes } from './tts/tts.routes.ts';
import { pronunciationsRoutes } from './tts/pronunciations.routes.ts';
import { broadcastsRoutes } from './broadcasts/broadcasts.routes.ts';
import { alarmsRoutes } from './alarms/alarms.routes.ts';
import { mapRoutes } from './map/map.routes.ts';
import { webConsole } from './web/web.plugin.ts';

export interface AppOptions {
  config: Config;
  clock?: Clock;
  /** pino options or false; tests pass false */
  logger?: boolean | object;
}

export interface Loa {
  services: Services;
  /** the server's way to and from devices, whichever broker runs */
  link: DeviceLink;
  /** the embedded broker itself: its listeners, the WebSocket route, tests of its policy */
  broker: EmbeddedLink['broker'];
  db: Db;
  /** Starts the MQTT listeners (TCP, and TLS when configured). HTTP (with MQTT over WebSocket) is app.listen. */
  startMqtt(): Promise<{ port: number; tlsPort?: number }>;
  /** bound ports once startMqtt resolved */
  port?: number;
  tlsPort?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    loa: Loa;
  }
}

/** Builds the whole product as one Fastify instance; only main.ts (or a test) listens. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const app = Fastify({
    logger: opts.logger ?? { level: config.LOA_LOG_LEVEL },
    trustProxy: config.LOA_TRUST_PROXY,
    requestIdHeader: 'x-request-id',
    bodyLimit: 8 * 1024 * 1024,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (config.LOA_DB_FILE !== ':memory:') mkdirSync(config.LOA_DATA_DIR, { recursive: true });
  const db = await openDb({
    url: config.LOA_DB_URL,
    file: config.LOA_DB_FILE || join(config.LOA_DATA_DIR, 'loa.sqlite'),
    onError: (err) => app.log.warn({ err }, 'database connection lost (the pool replaces it)'),
  });
  // The one place the device link is chosen: a client of the external broker when LOA_MQTT_URL is set (devices
  // connect there; no MQTT listener here), the embedded broker otherwise.
  const external = config.LOA_MQTT_URL
    ? await createExternalLink({
        url: config.LOA_MQTT_URL,
        username: config.LOA_MQTT_USERNAME,
        password: config.LOA_MQTT_PASSWORD,
        clientId: config.LOA_MQTT_CLIENT_ID,
        accounts: config.LOA_MQTT_ACCOUNTS,
        tls: config.LOA_MQTT_URL.startsWith('mqtts://')
          ? { caFile: config.LOA_MQTT_CA_FILE, certFile: config.LOA_MQTT_CLIENT_CERT_FILE, keyFile: config.LOA_MQTT_CLIENT_KEY_FILE, servername: config.LOA_MQTT_TLS_SERVERNAME }
          : undefined,
      })
    : null;
  const embedded = external ? null : await createEmbeddedLink();
  const link: DeviceLink = external ?? embedded!;
  const services = await createServices(config, db, clock, link, { log: app.log, logger: app.log as unknown as Logger });
  const { metrics } = services;

  if (embedded) installPolicy(embedded.broker, {
    directory: services.directory,
    maxPacketBytes: config.LOA_MQTT_MAX_PACKET_BYTES,
    publishRate: config.LOA_MQTT_PUBLISH_RATE,
    maxSubscriptions: config.LOA_MQTT_MAX_SUBSCRIPTIONS,
    onReject: (clusterId, reason, detail) => {
      metrics.mqttRejected.inc({ reason });
      app.log.debug({ clusterId, reason, detail }, 'mqtt refused');
    },
  });
  attachDeviceHandlers(link, services, app.log);
  await external?.open();

  const listeners: Listener[] = [];
  const tooLarge = () => metrics.mqttRejected.inc({ reason: 'packet_too_large' });
  const loa: Loa = {
    services,
    link,
    get broker() {
      if (!embedded) throw new Error('no embedded broker: LOA_MQTT_URL names an external one');
      return embedded.broker;
    },
    db,
    async startMqtt() {
      if (!embedded) return { port: 0 }; // devices connect to the external broker
      const { broker } = embedded;
      const tcp = await listen(broker, { host: config.LOA_MQTT_HOST, port: config.LOA_MQTT_PORT, maxPacketBytes: config.LOA_MQTT_MAX_PACKET_BYTES, onTooLarge: tooLarge });
      listeners.push(tcp);
      let tlsPort: number | undefined;
      if (config.LOA_MQTT_TLS_CERT) {
        const tls = await listen(broker, { host: config.LOA_MQTT_HOST, port: config.LOA_MQTT_TLS_PORT, maxPacketBytes: config.LOA_MQTT_MAX_PACKET_BYTES, onTooLarge: tooLarge, tls: { certFile: config.LOA_MQTT_TLS_CERT, keyFile: config.LOA_MQTT_TLS_KEY } });
        listeners.push(tls);
        tlsPort = tls.port;
      }
      loa.port = tcp.port;
      loa.tlsPort = tlsPort;
      return { port: tcp.port, tlsPort };
    },
  };
  app.decorate('loa', loa);

  installErrorHandler(app);
  await app.register(httpPlugins, { services });
  await app.register(authPlugin, { services });
  await app.register(opsRoutes, { services });
  await app.register(accountsRoutes, { services, prefix: '/api' });
  await app.register(areasRoutes, { services, prefix: '/api' });
  await app.register(clustersRoutes, { services, prefix: '/api' });
  await app.register(healthRoutes, { services, prefix: '/api' });
  await app.register(commandsRoutes, { services, prefix: '/api' });
  await app.register(contentRoutes, { services, prefix: '/api' });
  await app.register(ttsRoutes, { services, prefix: '/api' });
  await app.register(pronunciationsRoutes, { services, prefix: '/api' });
  await app.register(broadcastsRoutes, { services, prefix: '/api' });
  await app.register(alarmsRoutes, { services, prefix: '/api' });
  await app.register(programmesRoutes, { services, prefix: '/api' });
  await app.register(timetableRoutes, { services, prefix: '/api' });
  await app.register(jobsRoutes, { services, prefix: '/api' });
  await app.register(liveRoutes, { services, prefix: '/api' });
  await app.register(deviceRoutes, { services, prefix: '/api/device' });
  await app.register(icecastAuthRoutes, { services, prefix: '/api/device' }); // outside the device routes' Basic check
  await app.register(emqxHooksRoutes, { services, prefix: '/api/emqx' }); // EMQX's HTTP authn/authz, behind LOA_EMQX_HOOK_SECRET
  await app.register(mapRoutes, { config: services.config, areas: services.areas });
  await app.register(webConsole);

  // One instance alone on its database is the leader at once; beside others, whoever holds the lock (jobs/leader.ts).
  const leadership = new Leadership(() => db.tryLock(LEADER_LOCK), (err) => app.log.warn({ err }, 'leader lock not taken'));
  leadership.onChange((leader) => app.log.info({ leader }, leader ? 'this instance leads: periodic work runs here' : 'this instance no longer leads'));
  await leadership.start();
  const stopJobs = startBackgroundJobs(services, app.log, leadership);
  app.addHook('onReady', async () => {
    await services.accounts.bootstrap(app.log, config);
    if (external) {
      const r = await external.manage(services.directory, services.bus, (err, clusterId) => app.log.error({ err, clusterId }, 'broker account update failed'));
      if (r.missing.length) app.log.warn({ missing: r.missing }, 'clusters without an account on the broker: rotate their secrets to create one');
      app.log.info({ removed: r.removed.length, updated: r.updated }, 'broker accounts reconciled');
    }
    // Before devices reconnect: a delivery cut short by a crash (its airing log unwritten) is completed first.
    const redelivered = await services.broadcasts.deliverDue();
    if (redelivered) app.log.info({ redelivered }, 'completed deliveries left unfinished by the last run');
  });
  app.addHook('onClose', async () => {
    await stopJobs();
    await leadership.close();
    // Live streams end first: devices hear the end, recordings are filed while the database is still open.
    await services.liveSessions.close();
    await services.live.close();
    await services.backlog.settle();
    await services.airings.flush();
    await services.content.drain();
    await Promise.all(listeners.map((l) => l.close()));
    await link.close();
    await services.telemetry.flush(undefined, true);
    await services.stopSharing();
    await db.close();
  });
  return app;
}
