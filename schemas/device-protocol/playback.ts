import { Type, type Static } from '@sinclair/typebox';
import { EpochMsSchema, Sha256Schema } from '../common.ts';
import { StreamSpecSchema } from './stream.ts';

/** Circular 39/2020/TT-BTTTT bulletin levels. */
export const LEVELS = ['normal', 'priority', 'emergency'] as const;
export type Level = (typeof LEVELS)[number];
export const LevelSchema = Type.Union(LEVELS.map((l) => Type.Literal(l)));

export const PREEMPT_POLICIES = ['resume', 'restart', 'drop'] as const;

/**
 * One thing a cluster must air: a content item (fetched by sha256 over HTTP) or (v1.2) a live stream, when, how
 * loud, on which outputs, how often. A stream item is sent only to a device whose birth declares the `stream`
 * feature; it has `repeat.count` 1. Times are server time; the device converts them with its measured clock offset.
 */
export const PlayItemSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 80, description: 'unique item id; the same broadcast has the same item id on every cluster' }),
    broadcastId: Type.String({ minLength: 1, maxLength: 64 }),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    level: LevelSchema,
    content: Type.Optional(
      Type.Object(
        {
          sha256: Sha256Schema,
          size: Type.Integer({ minimum: 1, description: 'bytes of the file to fetch' }),
          durationMs: Type.Integer({ minimum: 1 }),
        },
        { description: 'a file item: exactly one of content and stream is present (v1.1 items always have content)' },
      ),
    ),
    stream: Type.Optional(StreamSpecSchema),
    startAt: Type.Union([EpochMsSchema, Type.Null()], {
      description: 'server time of the first airing; null = as soon as the level allows (normal: when idle, priority: after the current item, emergency: at once)',
    }),
    expiresAt: EpochMsSchema,
    volume: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()], { description: 'null = the device volume; emergency always uses the configured emergencyVolume' }),
    outputs: Type.Union([Type.Array(Type.Integer({ minimum: 0, maximum: 7 }), { minItems: 1, maxItems: 8 }), Type.Null()], { description: 'null = every output' }),
    repeat: Type.Object({
      count: Type.Integer({ minimum: 1, maximum: 50, description: 'airings in all' }),
      intervalS: Type.Integer({ minimum: 0, maximum: 86_400, description: 'from the start of one airing to the start of the next; when shorter than the content, airings are back to back: airing seq is due at startAt + seq × max(intervalS·1000, durationMs)' }),
    }),
    order: Type.Optional(Type.Integer({ minimum: 0, description: 'priority items that clash air in ascending order (set by the commune operator); absent sorts last' })),
    maxWaitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600, description: 'priority: longest wait for the current item to end before preempting it; absent = wait until it ends. An emergency never interrupts another emergency: they queue by startAt' })),
    onPreempt: Type.Union(PREEMPT_POLICIES.map((p) => Type.Literal(p)), { description: 'what this item does when a higher level interrupts it' }),
  },
  { $id: 'PlayItem' },
);
export type PlayItem = Static<typeof PlayItemSchema>;

/**
 * Per-device manifest update: everything to air in the next 48 h, as a delta from `baseVersion`. `version` strictly
 * increases over everything the server sends one cluster; different contents never share a version.
 * `baseVersion` = `version` with no items and none removed is the answer "you are current at `version`".
 */
export const ManifestSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1, description: 'strictly increasing per cluster: different contents never share a version' }),
    baseVersion: Type.Integer({
      minimum: 0,
      description:
        '0 = full snapshot: drop every item not listed. Equal to `version` (no items, none removed) = "you are current at `version`": a device holding `version` is up to date; one holding less publishes `manifest/req` with what it holds',
    }),
    items: Type.Array(PlayItemSchema, { maxItems: 500, description: 'added or changed items' }),
    removed: Type.Array(Type.String({ maxLength: 80 }), { maxItems: 500, description: 'item ids to drop; one airing now must stop' }),
  },
  { $id: 'Manifest' },
);
export type Manifest = Static<typeof ManifestSchema>;

/** Device → server: "I hold manifest `version`; send me what changed since". Always answered on `manifest`. */
export const ManifestRequestSchema = Type.Object(
  { version: Type.Integer({ minimum: 0, description: 'always answered on `manifest`: a delta, a snapshot, or "you are current" (`baseVersion` = `version`)' }) },
  { $id: 'ManifestRequest' },
);
export type ManifestRequest = Static<typeof ManifestRequestSchema>;

/** Group fan-out of one item (one publish reaches a whole commune) or of a cancellation. */
export const GroupPlaySchema = Type.Union(
  [
    Type.Object({ op: Type.Literal('play'), item: PlayItemSchema }),
    Type.Object({ op: Type.Literal('cancel'), broadcastId: Type.String({ minLength: 1, maxLength: 64 }) }),
  ],
  { $id: 'GroupPlay' },
);
export type GroupPlay = Static<typeof GroupPlaySchema>;

/** `underrun` (v1.2, stream items): the jitter buffer ran dry while on air; the airing goes on at the live position. */
export const AIRING_STATES = ['received', 'downloaded', 'started', 'interrupted', 'resumed', 'finished', 'failed', 'skipped', 'cancelled', 'underrun'] as const;
export type AiringState = (typeof AIRING_STATES)[number];

/** Proof of play, one report per state change of one airing. Buffered offline; `id` makes redelivery idempotent. */
export const AiringReportSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, description: 'report id, unique over the device lifetime' }),
    itemId: Type.String({ minLength: 1, maxLength: 80 }),
    broadcastId: Type.String({ minLength: 1, maxLength: 64 }),
    seq: Type.Integer({ minimum: 0, description: 'which airing of the item (0 = first)' }),
    state: Type.Union(AIRING_STATES.map((s) => Type.Literal(s))),
    ts: EpochMsSchema,
    serverTs: Type.Union([Type.Number(), Type.Null()], { description: 'ts converted to server time with the measured offset; null before any time sync' }),
    positionMs: Type.Optional(Type.Integer({ minimum: 0, description: 'playback position, for started/interrupted/resumed/finished/cancelled' })),
    reason: Type.Optional(Type.String({ maxLength: 64, description: 'failed/skipped/cancelled: hash_mismatch, download_failed, content_missing, expired, cancelled, removed, preempted, reboot, storage_full …; stream items: unsupported_codec, stream_unavailable, stream_ended' })),
    gapMs: Type.Optional(Type.Integer({ minimum: 0, description: 'underrun: how long the audio was missing before the airing went on at the live position' })),
  },
  { $id: 'AiringReport' },
);
export type AiringReport = Static<typeof AiringReportSchema>;
