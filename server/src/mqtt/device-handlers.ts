import type { Aedes, Client, Subscription } from 'aedes';
import type { FastifyBaseLogger } from 'fastify';
import { BirthSchema, StatusSchema } from '../../../schemas/device-protocol/presence.ts';
import { TelemetrySchema } from '../../../schemas/device-protocol/telemetry.ts';
import { DeviceEventSchema } from '../../../schemas/device-protocol/events.ts';
import { CommandReplySchema } from '../../../schemas/device-protocol/commands.ts';
import { TimeRequestSchema } from '../../../schemas/device-protocol/time-sync.ts';
import { AiringReportSchema, ManifestRequestSchema } from '../../../schemas/device-protocol/playback.ts';
import { deviceTopic, parseTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Services } from '../services.ts';
import { brokerPublisher } from './broker.ts';
import { MqttRouter } from './router.ts';
import { dropStaleGroupSubscriptions } from './policy.ts';

/** Connects device traffic to the services. Each handler is one call: the logic lives in the services. */
export function attachDeviceHandlers(broker: Aedes, s: Services, log: FastifyBaseLogger): void {
  const publisher = brokerPublisher(broker);
  const { metrics } = s;
  const malformedLogged = new Map<string, number>();

  const router = new MqttRouter({
    now: () => s.clock.now(),
    onMessage: (id, channel) => {
      metrics.mqttIn.inc({ channel });
      s.presence.seen(id);
    },
    onMalformed: (id, channel, error) => {
      metrics.mqttRejected.inc({ reason: 'malformed' });
      const h = s.health.peek(id);
      if (h) {
        h.malformedCount++;
        h.dirty = true;
      }
      // One log line per device per minute: a broken firmware must not flood the log.
      const last = malformedLogged.get(id) ?? 0;
      if (Date.now() - last > 60_000) {
        malformedLogged.set(id, Date.now());
        log.warn({ clusterId: id, channel, error }, 'malformed device payload rejected');
      }
    },
    onHandlerError: (id, channel, err) => {
      metrics.mqttHandlerErrors.inc({ channel });
      log.error({ clusterId: id, channel, err }, 'device message handler failed');
    },
  });

  router
    .on('status', StatusSchema, (id, p, at) => s.presence.status(id, p, at))
    .on('birth', BirthSchema, (id, p) => {
      const h = s.health.get(id);
      h.birth = p;
      h.dirty = true;
      h.urgent = true;
      s.clusters.reportFirmware(id, p.firmware);
      void s.deviceConfig.push(id).catch((err) => log.error({ err, clusterId: id }, 'config push failed'));
      // A reconnecting device says which manifest it holds and gets only what changed since.
      void s.manifests.push(id, p.manifestVersion ?? 0).catch((err) => log.error({ err, clusterId: id }, 'manifest push failed'));
    })
    .on('telemetry', TelemetrySchema, (id, p, at) => s.telemetry.ingest(id, p, at))
    .on('event', DeviceEventSchema, (id, p, at) => s.deviceEvents.ingest(id, p, at) && s.telemetry.applyEvent(id, p, at))
    .on('reply', CommandReplySchema, (id, p, at) => s.commands.reply(id, p, at))
    .on('airing', AiringReportSchema, (id, p, at) => s.airings.submit(id, p, at))
    .on('manifest/req', ManifestRequestSchema, (id, p) => void s.manifests.push(id, p.version).catch((err) => log.error({ err, clusterId: id }, 'manifest push failed')))
    .on('time/req', TimeRequestSchema, (id, p) => {
      // Stamped with the same clock that schedules airings and expiries: that clock is "server time" for devices.
      // (performance.now()-based stamps drift from Date.now() by tens of ms over a long uptime.)
      const t1 = s.clock.now();
      const body = { id: p.id, t0: p.t0, t1, t2: s.clock.now() };
      void publisher.publish(deviceTopic(id, 'time/res'), Buffer.from(JSON.stringify(body)), { qos: 0 });
    });
  router.attach(broker);

  broker.on('clientReady', (client: Client) => s.presence.seen(client.id));
  // aedes emits 'subscribe' for the subscriptions it granted.
  broker.on('subscribe', (subs: Subscription[], client: Client) => {
    if (!client || !subs.some((x) => { const t = parseTopic(x.topic); return t?.kind === 'group' && t.channel === 'play'; })) return;
    void s.manifests.catchUp(client.id).catch((err) => log.error({ err, clusterId: client.id }, 'manifest catch-up failed'));
  });
  broker.on('clientDisconnect', (client: Client) => {
    // A newer session of the same cluster may have replaced this one; only the last one out marks offline.
    if (!(broker as unknown as { clients: Record<string, Client> }).clients[client.id]) s.presence.disconnected(client.id);
  });

  s.bus.on('device.revoked', ({ clusterId }) => {
    const client = (broker as unknown as { clients: Record<string, Client> }).clients[clusterId];
    client?.close();
    s.presence.disconnected(clusterId);
  });
  s.bus.on('registry.changed', ({ clusterIds }) => {
    for (const id of clusterIds) {
      void dropStaleGroupSubscriptions(broker, id, s.directory.groupsOf(id)).catch(() => undefined);
      void s.deviceConfig.push(id).catch(() => undefined);
    }
  });
}
