import type { FastifyInstance } from 'fastify';
import { SimCluster } from '../../../firmware-sim/src/index.ts';
import { seedDemo } from './seed.ts';

/**
 * LOA_DEMO=1: seed the demo hierarchy and run its simulated clusters in this process. They connect to the broker
 * over real TCP with their own credentials, exactly as hardware would; nothing here bypasses the broker policy.
 */
export async function startDemo(app: FastifyInstance, mqttPort: number): Promise<{ stop(): Promise<void>; clusters: SimCluster[] }> {
  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const { file, fleet, created } = seedDemo(app.loa.services, url);
  app.log.info({ file, clusters: fleet.clusters.length, created }, 'demo fleet seeded');
  const clusters = fleet.clusters.map(
    (m) => new SimCluster({ url, id: m.id, secret: m.secret, outputs: m.outputs.map((o) => ({ index: o.index, label: o.label, ratedW: o.ratedW })), firmware: m.firmware, hardware: m.hardware, model: m.model, serial: m.serial }),
  );
  await Promise.all(clusters.map((c) => c.start()));
  app.log.info({ clusters: clusters.length }, 'demo fleet started');
  return {
    clusters,
    stop: async () => {
      await Promise.all(clusters.map((c) => c.stop()));
    },
  };
}
