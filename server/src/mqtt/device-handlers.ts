import type { FastifyBaseLogger } from 'fastify';
import { BirthSchema, StatusSchema } from '../../../schemas/device-protocol/presence.ts';
import { TelemetrySchema } from '../../../schemas/device-protocol/telemetry.ts';
import { DeviceEventSchema } from '../../../schemas/device-protocol/events.ts';
import { CommandReplySchema } from '../../../schemas/device-protocol/commands.ts';
import { TimeRequestSchema } from '../../../schemas/device-protocol/time-sync.ts';
import { AiringReportSchema, ManifestRequestSchema } from '../../../schemas/device-protocol/playback.ts';
import { deviceTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Services } from '../services.ts';
import type { DeviceLink } from './device-link.ts';
import { MqttRouter } from './router.ts';

/**
 * Connects device traffic to the services. Each handler is one call: the logic lives in the services. Which broker
 * carries the traffic is the link's business (device-link.ts).
 */
export function attachDeviceHandlers(link: DeviceLink, s: Services, log: FastifyBaseLogger): void {
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
    .on('birth', BirthSchema, async (id, p) => {
      const h = s.health.get(id);
      h.birth = p;
      h.dirty = true;
      h.urgent = true;
      await s.clusters.reportFirmware(id, p.firmware);
      void s.deviceConfig.push(id).catch((err) => log.error({ err, clusterId: id }, 'config push failed'));
      // A reconnecting device says which manifest it holds and gets only what changed since.
      void s.manifests.push(id, p.manifestVersion ?? 0).catch((err) => log.error({ err, clusterId: id }, 'manifest push failed'));
    })
    .on('telemetry', TelemetrySchema, (id, p, at) => s.telemetry.ingest(id, p, at))
    .on('event', DeviceEventSchema, async (id, p, at) => (await s.deviceEvents.ingest(id, p, at)) && s.telemetry.applyEvent(id, p, at))
    .on('reply', CommandReplySchema, (id, p, at) => s.commands.reply(id, p, at))
    .on('airing', AiringReportSchema, (id, p, at) => s.airings.submit(id, p, at))
    .on('manifest/req', ManifestRequestSchema, (id, p) => void s.manifests.push(id, p.version).catch((err) => log.error({ err, clusterId: id }, 'manifest push failed')))
    .on('time/req', TimeRequestSchema, (id, p) => {
      // Stamped with the same clock that schedules airings and expiries: that clock is "server time" for devices.
      // (performance.now()-based stamps drift from Date.now() by tens of ms over a long uptime.)
      const t1 = s.clock.now();
      const body = { id: p.id, t0: p.t0, t1, t2: s.clock.now() };
      void link.publish(deviceTopic(id, 'time/res'), Buffer.from(JSON.stringify(body)), { qos: 0 });
    });
  router.attach(link);

  link.onSessionUp((id) => s.presence.seen(id));
  // Granted its group play topic, a cluster is sent what changed since its birth's answer (group-subscribe-window).
  link.onGroupSubscribed((id, subs) => {
    if (!subs.some((x) => x.channel === 'play')) return;
    void s.manifests.catchUp(id).catch((err) => log.error({ err, clusterId: id }, 'manifest catch-up failed'));
  });
  // Only the last session out marks offline: a takeover by a newer session of the same cluster is no session down.
  link.onSessionDown((id) => s.presence.disconnected(id));

  s.bus.on('device.revoked', ({ clusterId }) => {
    void link.disconnect(clusterId).catch(() => undefined);
    s.presence.disconnected(clusterId);
  });
  s.bus.on('registry.changed', ({ clusterIds }) => {
    // The broker's grants first, then the config that names the groups: on an external broker the device's ACL
    // role is what admits its subscriptions, and a device told of a group before it is granted is refused it.
    for (const id of clusterIds) {
      void link
        .dropGroupSubscriptions(id, s.directory.groupsOf(id))
        .catch((err) => log.error({ err, clusterId: id }, 'group grants not updated'))
        .then(() => s.deviceConfig.push(id))
        .catch((err) => log.error({ err, clusterId: id }, 'config push failed'));
    }
  });
}
