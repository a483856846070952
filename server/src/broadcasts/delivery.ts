import type { PlayItem } from '../../../schemas/device-protocol/playback.ts';
import { groupTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Publisher } from '../mqtt/publisher.ts';
import type { AiringsService } from './airings.service.ts';
import type { ManifestService } from './manifest.service.ts';
import type { ResolvedTargets } from './targets.ts';

/**
 * Gets a play order to every targeted cluster. Whole areas get one publish on their group topic (for an emergency,
 * one publish per commune); the rest get it on their own manifest topic. Every targeted cluster also gets the item
 * in its stored manifest, so one that was offline picks it up when it reconnects.
 */
export class Delivery {
  constructor(
    private publisher: Publisher,
    private manifests: ManifestService,
    private airings: AiringsService,
  ) {}

  async deliver(item: PlayItem, targets: ResolvedTargets): Promise<void> {
    const whole = { ...item, outputs: null };
    // Manifests first: a device taking a snapshot between the group publish and this write would otherwise be
    // told the item does not exist. The airing log can follow the fan-out.
    const entries = [...targets.clusters].map(([clusterId, outputs]) => ({ clusterId, item: outputs ? { ...item, outputs } : whole }));
    const versions = this.manifests.put(entries);
    await Promise.all(targets.groups.map((g) => this.publisher.publish(groupTopic(g, 'play'), Buffer.from(JSON.stringify({ op: 'play', item: whole })), { qos: 1 })));
    const start = item.startAt!;
    // Same rule as the devices: an interval shorter than the programme means back to back.
    const step = Math.max(item.repeat.intervalS * 1000, item.content.durationMs);
    this.airings.plan(item.broadcastId, [...targets.clusters].map(([clusterId, outputs]) => ({ clusterId, outputs, scheduledAt: (seq: number) => start + seq * step })), item.repeat.count);
    await Promise.all(targets.direct.map((id) => this.manifests.push(id, (versions.get(id) ?? 1) - 1)));
  }

  async cancel(broadcastId: string, targets: ResolvedTargets): Promise<void> {
    await Promise.all(targets.groups.map((g) => this.publisher.publish(groupTopic(g, 'play'), Buffer.from(JSON.stringify({ op: 'cancel', broadcastId })), { qos: 1 })));
    const versions = this.manifests.removeBroadcast([...targets.clusters.keys()], broadcastId);
    await Promise.all(targets.direct.map((id) => (versions.has(id) ? this.manifests.push(id, versions.get(id)! - 1) : undefined)));
    this.airings.cancelOpen(broadcastId);
  }
}
