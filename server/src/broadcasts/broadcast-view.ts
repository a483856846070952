import type { Broadcast, DeliverySummary, Targets } from '../../../schemas/api/broadcasts.ts';
import type { Level } from '../../../schemas/device-protocol/playback.ts';
import type { BroadcastRow } from './broadcasts.repo.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API shape of a broadcast row with its delivery summary. */
export function toBroadcast(r: BroadcastRow, delivery: DeliverySummary): Broadcast {
  return {
    id: r.id,
    title: r.title,
    level: r.level as Level,
    state: r.state as Broadcast['state'],
    source: r.source,
    targets: r.targets as Targets,
    contentId: r.contentId,
    startAt: iso(r.startAt),
    expiresAt: iso(r.expiresAt),
    volume: r.volume,
    repeat: { count: r.repeatCount, intervalS: r.repeatIntervalS },
    onPreempt: r.onPreempt,
    order: r.priorityOrder,
    maxWaitS: r.maxWaitS,
    createdBy: r.createdBy,
    createdByName: null,
    createdAt: iso(r.createdAt)!,
    approvedBy: r.approvedBy,
    approvedByName: null,
    reach: { clusters: delivery.targeted, places: [] },
    rejectReason: r.rejectReason,
    cancelledBy: r.cancelledBy,
    delivery,
    live: null,
  };
}
