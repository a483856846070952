import type { PlayItem } from '../../../schemas/device-protocol/playback.ts';
import { groupTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Publisher } from '../mqtt/publisher.ts';
import type { Backlog } from '../shared/backlog.ts';
import type { AiringsService } from './airings.service.ts';
import type { ManifestService } from './manifest.service.ts';
import type { ResolvedTargets } from './targets.ts';

/**
 * Gets a play order to every targeted cluster. Whole areas get one publish on their group topic (for an emergency,
 * one publish per commune); the rest get it on their own manifest topic. Every targeted cluster also gets the item
 * in its stored manifest, so one that was offline picks it up when it reconnects.
 *
 * The group publish goes first and the caller is answered as soon as it is handed to the broker, not once the broker
 * has written it to every cluster (for a province of 10,000 that is the slowest link's drain: seconds). Nothing is
 * lost by not waiting: the broker holds no more than memory does either way, and the broadcast row is already stored.
 * The manifest rows, the airing log and the per-cluster manifest pushes (a row or a publish per cluster: seconds for
 * a province) follow on the backlog, after the fan-out. No device can see the gap — every manifest and airing read settles the backlog first — and a crash
 * inside it leaves a broadcast with no airing log, which BroadcastsService.deliverDue delivers again at start-up.
 */
export class Delivery {
  constructor(
    private publisher: Publisher,
    private manifests: ManifestService,
    private airings: AiringsService,
    private backlog: Backlog,
    /** A publish that failed after the caller was answered: to a cluster id, or to a group topic id. */
    private onPushError: (to: string, err: unknown) => void,
    /** Whether a cluster's firmware plays stream items (its last birth declared the `stream` feature, or none is known yet). */
    private canStream: (clusterId: string) => boolean = () => true,
  ) {}

  deliver(item: PlayItem, targets: ResolvedTargets): void {
    const whole = { ...item, outputs: null };
    const sent = Promise.all(
      targets.groups.map((g) => this.publisher.publish(groupTopic(g, 'play'), Buffer.from(JSON.stringify({ op: 'play', item: whole })), { qos: 1 }).catch((err) => this.onPushError(g, err))),
    );
    // Queued before the publish is awaited, so that anything reading manifests or airings meanwhile (a device's
    // manifest request, the window job) settles it and sees the broadcast as delivered.
    this.backlog.defer(async () => {
      // A v1.1 device's manifest must never hold a stream item: it would refuse the whole manifest as malformed.
      // The server refuses the airing on its behalf, with the reason the console shows.
      const refused = item.stream ? new Set([...targets.clusters.keys()].filter((id) => !this.canStream(id))) : new Set<string>();
      const entries = [...targets.clusters].filter(([clusterId]) => !refused.has(clusterId)).map(([clusterId, outputs]) => ({ clusterId, item: outputs ? { ...item, outputs } : whole }));
      const versions = await this.manifests.put(entries);
      const start = item.startAt!;
      // Same rule as the devices: an interval shorter than the programme means back to back.
      const step = Math.max(item.repeat.intervalS * 1000, item.content?.durationMs ?? item.stream?.durationMs ?? 0);
      // Last: an airing log is what says "delivered" (deliverDue), so it is written only once the manifests are.
      await this.airings.plan(item.broadcastId, [...targets.clusters].map(([clusterId, outputs]) => ({ clusterId, outputs, scheduledAt: (seq: number) => start + seq * step })), item.repeat.count);
      if (refused.size) await this.airings.refuse(item.broadcastId, [...refused], 'unsupported_stream');
      // Each push is read and handed to the publisher before this bookkeeping is over (settled), not acknowledged.
      for (const id of targets.direct) {
        if (refused.has(id)) continue;
        try {
          const { published } = await this.manifests.send(id, (versions.get(id) ?? 1) - 1);
          published.catch((err: unknown) => this.onPushError(id, err));
        } catch (err) {
          this.onPushError(id, err);
        }
      }
    }, sent);
  }

  async cancel(broadcastId: string, targets: ResolvedTargets): Promise<void> {
    await Promise.all(targets.groups.map((g) => this.publisher.publish(groupTopic(g, 'play'), Buffer.from(JSON.stringify({ op: 'cancel', broadcastId })), { qos: 1 })));
    const versions = await this.manifests.removeBroadcast([...targets.clusters.keys()], broadcastId);
    await Promise.all(targets.direct.filter((id) => versions.has(id)).map((id) => this.manifests.push(id, versions.get(id)! - 1)));
    await this.airings.cancelOpen(broadcastId);
  }

  /** Resolves once the bookkeeping of every delivery so far is written (tests, shutdown). */
  settled(): Promise<void> {
    return this.backlog.idle();
  }
}
