import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, OffsetSchema, TimestampSchema } from '../common.ts';
import { LevelSchema, PREEMPT_POLICIES } from '../device-protocol/playback.ts';

export const BROADCAST_STATES = ['pending_approval', 'rejected', 'scheduled', 'airing', 'done', 'cancelled', 'expired'] as const;
export type BroadcastState = (typeof BROADCAST_STATES)[number];

export const TtsSourceSchema = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 5000 }),
  voice: Type.Optional(Type.String({ maxLength: 64 })),
  speed: Type.Optional(Type.Number({ minimum: 0.5, maximum: 2 })),
  chime: Type.Optional(Type.Boolean({ description: 'chime before and after' })),
});

const SingleSourceSchema = Type.Union([
  Type.Object({ tts: TtsSourceSchema }),
  Type.Object({ contentId: Type.String({ minLength: 1, maxLength: 64 }) }),
]);

/** Relay of a stored upstream source for a fixed time (v1.2 stream items); live microphone goes through /api/live. */
export const RelaySourceRefSchema = Type.Object({
  sourceId: Type.String({ minLength: 1, maxLength: 64 }),
  durationS: Type.Integer({ minimum: 10, maximum: 6 * 3600, description: 'how long the relay airs from its start' }),
});

export const BroadcastSourceSchema = Type.Union([
  SingleSourceSchema,
  Type.Object({ relay: RelaySourceRefSchema }),
  Type.Object({ items: Type.Array(SingleSourceSchema, { minItems: 2, maxItems: 10, description: 'aired as one programme, in this order' }) }),
]);
export type BroadcastSource = Static<typeof BroadcastSourceSchema>;

export const TargetsSchema = Type.Object({
  areaIds: Type.Optional(Type.Array(IdSchema, { maxItems: 1000 })),
  clusterIds: Type.Optional(Type.Array(IdSchema, { maxItems: 20_000 })),
  outputs: Type.Optional(
    Type.Array(Type.Object({ clusterId: IdSchema, outputs: Type.Array(Type.Integer({ minimum: 0, maximum: 7 }), { minItems: 1, maxItems: 8 }) }), {
      maxItems: 20_000,
      description: 'single speaker outputs of a cluster',
    }),
  ),
});
export type Targets = Static<typeof TargetsSchema>;

export const CreateBroadcastSchema = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  level: LevelSchema,
  source: BroadcastSourceSchema,
  targets: TargetsSchema,
  startAt: Type.Optional(Type.Union([TimestampSchema, Type.Null()], { description: 'omitted or null: now' })),
  expiresAt: Type.Optional(TimestampSchema),
  volume: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  repeat: Type.Optional(Type.Object({ count: Type.Integer({ minimum: 1, maximum: 50 }), intervalS: Type.Integer({ minimum: 0, maximum: 86_400 }) })),
  onPreempt: Type.Optional(Type.Union(PREEMPT_POLICIES.map((p) => Type.Literal(p)))),
  order: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'priority clash order, lower first' })),
  maxWaitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  onQuietHours: Type.Optional(
    Type.Union([Type.Literal('refuse'), Type.Literal('move')], { description: 'an airing in quiet hours: refuse (default), or move the start to the first allowed time' }),
  ),
});
export type CreateBroadcast = Static<typeof CreateBroadcastSchema>;

/**
 * Why a targeted cluster has not aired a broadcast yet, while it is not over: offline (it gets the order when it
 * reconnects, if before expiry), online but the order not acknowledged, or acknowledged with the audio not fetched.
 */
export const WAITING_REASONS = ['offline', 'not_received', 'not_downloaded'] as const;
export type WaitingReason = (typeof WAITING_REASONS)[number];
export const WAITING_LISTED = 200;

export const DeliverySummarySchema = Type.Object({
  targeted: Type.Integer(),
  received: Type.Integer(),
  downloaded: Type.Integer(),
  started: Type.Integer(),
  finished: Type.Integer(),
  failed: Type.Integer(),
  startDelayMs: Type.Object({ median: Type.Union([Type.Number(), Type.Null()]), max: Type.Union([Type.Number(), Type.Null()]) }),
  notReceived: Type.Integer({ description: 'targeted clusters that have not acknowledged the order (nor failed)' }),
  failures: Type.Array(Type.Object({ clusterId: Type.String(), name: Type.String(), state: Type.String(), reason: Type.Union([Type.String(), Type.Null()]) })),
  waiting: Type.Array(
    Type.Object({
      clusterId: Type.String(),
      name: Type.String(),
      reason: Type.Union(WAITING_REASONS.map((r) => Type.Literal(r))),
      since: Type.Union([TimestampSchema, Type.Null()], { description: 'offline: when the cluster was last connected' }),
    }),
    { maxItems: WAITING_LISTED, description: `clusters that have not yet got what they need to air it, and why (at most ${WAITING_LISTED}; notReceived counts them all)` },
  ),
});
export type DeliverySummary = Static<typeof DeliverySummarySchema>;

export const BroadcastSchema = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    level: LevelSchema,
    state: Type.Union(BROADCAST_STATES.map((s) => Type.Literal(s))),
    source: Type.Unknown(),
    targets: TargetsSchema,
    contentId: Type.Union([Type.String(), Type.Null()]),
    startAt: Type.Union([TimestampSchema, Type.Null()]),
    expiresAt: Type.Union([TimestampSchema, Type.Null()]),
    volume: Type.Union([Type.Integer(), Type.Null()]),
    repeat: Type.Object({ count: Type.Integer(), intervalS: Type.Integer() }),
    onPreempt: Type.String(),
    order: Type.Union([Type.Integer(), Type.Null()]),
    maxWaitS: Type.Union([Type.Integer(), Type.Null()]),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdByName: Type.Union([Type.String(), Type.Null()], { description: 'display name of createdBy, when the account has one' }),
    createdAt: TimestampSchema,
    approvedBy: Type.Union([Type.String(), Type.Null()]),
    approvedByName: Type.Union([Type.String(), Type.Null()]),
    reach: Type.Object(
      {
        clusters: Type.Integer({ description: 'clusters the broadcast goes to (for one awaiting approval: would go to, if approved now)' }),
        places: Type.Array(Type.String(), { description: 'names of the targeted areas and clusters, as the sender chose them (at most 20)' }),
      },
      { description: 'where it airs, in names; delivery counts what happened' },
    ),
    rejectReason: Type.Union([Type.String(), Type.Null()]),
    cancelledBy: Type.Union([Type.String(), Type.Null()]),
    delivery: DeliverySummarySchema,
    live: Type.Union(
      [
        Type.Object({
          kind: Type.Union([Type.Literal('relay'), Type.Literal('microphone')]),
          sourceId: Type.Union([Type.String(), Type.Null()]),
          sourceName: Type.Union([Type.String(), Type.Null()]),
          onAir: Type.Integer({ description: 'targeted clusters playing it now (started, not yet over)' }),
          underruns: Type.Integer({ description: 'underruns reported by its clusters so far' }),
          input: Type.Union([Type.String(), Type.Null()], { description: 'what the stream carries now (primary, backup, filler, silence, microphone); null when it is not running' }),
          switches: Type.Array(Type.Object({ at: TimestampSchema, from: Type.String(), to: Type.String(), reason: Type.String() }), { maxItems: 50 }),
          recordingId: Type.Union([Type.String(), Type.Null()], { description: 'the content item holding the audio as aired, once stored' }),
        }),
        Type.Null(),
      ],
      { description: 'relay and live-microphone broadcasts: who is playing it now and what the stream carries' },
    ),
  },
  { $id: 'Broadcast' },
);
export type Broadcast = Static<typeof BroadcastSchema>;

export const BroadcastQuerySchema = Type.Object({
  state: Type.Optional(Type.Union(BROADCAST_STATES.map((s) => Type.Literal(s)))),
  level: Type.Optional(LevelSchema),
  areaId: Type.Optional(IdSchema),
  from: Type.Optional(TimestampSchema),
  to: Type.Optional(TimestampSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(OffsetSchema),
});
export type BroadcastQuery = Static<typeof BroadcastQuerySchema>;

export const RejectSchema = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) });

/**
 * Reasons the server itself writes when it closes an airing the device never reported as over, once the item has
 * expired (the device's own reasons are in device-protocol/playback.ts, AiringReport.reason; `expired` is shared).
 */
export const SERVER_AIRING_REASONS = {
  offline: 'the cluster was offline and never got the item: by its expiry, or by the time every reachable cluster had finished',
  not_received: 'the cluster was online but never acknowledged the item before it expired',
  expired: 'the item reached the cluster but did not start before it expired',
  unfinished: 'the airing started but no end was reported before it expired (plus its length and a grace period)',
  went_offline: 'the cluster got the item, then went offline and did not report the end by the time every reachable cluster had finished',
} as const;
export type ServerAiringReason = keyof typeof SERVER_AIRING_REASONS;

export const AiringSchema = Type.Object({
  broadcastId: Type.String(),
  clusterId: Type.String(),
  seq: Type.Integer(),
  state: Type.String(),
  scheduledAt: Type.Union([TimestampSchema, Type.Null()]),
  receivedAt: Type.Union([TimestampSchema, Type.Null()]),
  downloadedAt: Type.Union([TimestampSchema, Type.Null()]),
  startedAt: Type.Union([TimestampSchema, Type.Null()]),
  finishedAt: Type.Union([TimestampSchema, Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], { description: `failed/skipped/cancelled: the device's reason, or one of ${Object.keys(SERVER_AIRING_REASONS).join(', ')} written by the server when it closes the broadcast` }),
  clusterName: Type.String(),
});
export type Airing = Static<typeof AiringSchema>;
