import type { FastifyInstance } from 'fastify';
import { SimFleet } from '../../../firmware-sim/src/index.ts';
import { seedDemo } from './seed.ts';
import { startDemoUpstream } from './demo-upstream.ts';
import { seedDemoRelay } from './demo-relay.ts';

/**
 * LOA_DEMO=1: seed the demo hierarchy and run its simulated clusters in this process. They connect to the broker
 * over real TCP with their own credentials, exactly as hardware would; nothing here bypasses the broker policy.
 */
export async function startDemo(app: FastifyInstance, mqttPort: number, httpPort: number): Promise<{ fleet: SimFleet; stop(): Promise<void> }> {
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const http = `http://127.0.0.1:${httpPort}`;
  const { file, fleet: members, created } = await seedDemo(app.loa.services, url, http);
  app.log.info({ file, clusters: members.clusters.length, created }, 'demo fleet seeded');
  // Real receivers boot from an RTC a few seconds off; time sync is what keeps their airings together.
  const fleet = new SimFleet({ url, http, members: members.clusters, skewMs: 3000, driftPpm: 30 });
  fleet.start();
  await fleet.waitOnline(30_000).catch(() => app.log.warn(fleet.stats(), 'demo fleet not fully online yet'));
  app.log.info({ clusters: members.clusters.length }, 'demo fleet started');
  // A station on loopback to relay, so "Tiếp sóng" works with no internet.
  const upstream = await startDemoUpstream();
  await seedDemoRelay(app.loa.services, 'dong-thanh', upstream.url).then(
    (id) => app.log.info({ sourceId: id, url: upstream.url }, 'demo relay source ready'),
    (err) => app.log.warn({ err }, 'demo relay source not seeded'),
  );
  return {
    fleet,
    stop: async () => {
      await fleet.stop();
      await upstream.stop();
    },
  };
}
