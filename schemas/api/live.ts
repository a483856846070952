import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, TimestampSchema } from '../common.ts';
import { LevelSchema } from '../device-protocol/playback.ts';
import { TargetsSchema } from './broadcasts.ts';

/** An upstream URL the server may relay: Icecast/SHOUTcast (MP3, AAC, Ogg) or HLS (.m3u8), over http(s). */
export const UpstreamUrlSchema = Type.String({ minLength: 8, maxLength: 500, pattern: '^https?://[^\\s]+$', description: 'http(s) URL of an Icecast/SHOUTcast stream or an HLS playlist (.m3u8)' });

/**
 * A named upstream an area relays ("VOV1", "Đài tỉnh"): ingested once by the server however many clusters listen,
 * loudness-normalised and re-encoded to the device format. When the active URL stalls or errors the server switches
 * to the next backup, then to the filler, and goes back to the primary once it plays again.
 */
export const RelaySourceInputSchema = Type.Object({
  areaId: IdSchema,
  name: Type.String({ minLength: 1, maxLength: 80 }),
  primaryUrl: UpstreamUrlSchema,
  backupUrls: Type.Optional(Type.Array(UpstreamUrlSchema, { maxItems: 5, description: 'tried in this order when the primary fails' })),
  fillerContentId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'a content item looped while no upstream plays; null = silence' })),
  stallS: Type.Optional(Type.Integer({ minimum: 2, maximum: 60, description: 'no audio for this long = failed (default 5)' })),
  retryS: Type.Optional(Type.Integer({ minimum: 5, maximum: 600, description: 'while on a backup or the filler, how often the primary is tried again (default 30)' })),
});
export type RelaySourceInput = Static<typeof RelaySourceInputSchema>;

export const RelaySourcePatchSchema = Type.Partial(Type.Omit(RelaySourceInputSchema, ['areaId']));
export type RelaySourcePatch = Static<typeof RelaySourcePatchSchema>;

export const STREAM_INPUTS = ['primary', 'backup', 'filler', 'silence', 'microphone'] as const;
export type StreamInput = (typeof STREAM_INPUTS)[number];

export const StreamSwitchSchema = Type.Object({
  at: TimestampSchema,
  from: Type.String({ description: 'primary, backup 1 …, filler, silence' }),
  to: Type.String(),
  reason: Type.String({ description: 'stalled, http_error, decode_error, ended, recovered, started' }),
});
export type StreamSwitch = Static<typeof StreamSwitchSchema>;

/** A stream the server is producing now. */
export const StreamStatusSchema = Type.Object({
  streamId: Type.String(),
  kind: Type.Union([Type.Literal('relay'), Type.Literal('microphone')]),
  sourceId: Type.Union([Type.String(), Type.Null()]),
  input: Type.Union(STREAM_INPUTS.map((i) => Type.Literal(i))),
  /** which backup (1-based) when input is backup */
  backup: Type.Union([Type.Integer(), Type.Null()]),
  since: TimestampSchema,
  startedAt: TimestampSchema,
  listeners: Type.Integer({ description: 'devices connected to the stream now' }),
  paddedMs: Type.Integer({ description: 'silence the stream filled in since it started because its input had no audio (a stalled upstream, a late microphone chunk, a starved server)' }),
  droppedMs: Type.Integer({ description: 'input audio discarded since it started to stay near the live position (an upstream burst, a backlog)' }),
  droppedPages: Type.Integer({ description: 'pages not sent to listeners too slow to take them' }),
  switches: Type.Array(StreamSwitchSchema, { maxItems: 50, description: 'latest last' }),
});
export type StreamStatus = Static<typeof StreamStatusSchema>;

export const RelaySourceSchema = Type.Object(
  {
    id: Type.String(),
    areaId: Type.String(),
    areaName: Type.String(),
    name: Type.String(),
    primaryUrl: Type.String(),
    backupUrls: Type.Array(Type.String()),
    fillerContentId: Type.Union([Type.String(), Type.Null()]),
    stallS: Type.Integer(),
    retryS: Type.Integer(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    live: Type.Union([StreamStatusSchema, Type.Null()], { description: 'the ingest running now, if any broadcast airs it' }),
  },
  { $id: 'RelaySource' },
);
export type RelaySource = Static<typeof RelaySourceSchema>;

/** Going live from the console: the broadcast is created at once, the audio follows over the session's WebSocket. */
export const LiveSessionInputSchema = Type.Object({
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  level: LevelSchema,
  targets: TargetsSchema,
  volume: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
});
export type LiveSessionInput = Static<typeof LiveSessionInputSchema>;

export const LIVE_SESSION_STATES = ['waiting', 'live', 'ended'] as const;
/**
 * Why a session ended: `ended` by the officer (or an admin); `time_limit` (LOA_LIVE_MAX_S); `disconnected` — the
 * console stayed away past the reconnect grace; `broadcast_over` — its broadcast was cancelled, or every cluster
 * refused or dropped it; `restarted` — the server restarted, which no session survives.
 */
export const LIVE_END_REASONS = ['ended', 'time_limit', 'disconnected', 'broadcast_over', 'restarted'] as const;
export type LiveEndReason = (typeof LIVE_END_REASONS)[number];

export const LiveSessionSchema = Type.Object(
  {
    id: Type.String(),
    broadcastId: Type.String(),
    streamId: Type.String(),
    state: Type.Union(LIVE_SESSION_STATES.map((s) => Type.Literal(s)), { description: 'waiting = no audio received yet' }),
    level: LevelSchema,
    title: Type.String(),
    createdBy: Type.String(),
    startedAt: TimestampSchema,
    endedAt: Type.Union([TimestampSchema, Type.Null()]),
    endReason: Type.Union([...LIVE_END_REASONS.map((r) => Type.Literal(r)), Type.Null()], { description: 'why it ended; null while on air' }),
    audioPath: Type.String({ description: 'WebSocket path the console streams the microphone to (binary frames of WebM/Opus or Ogg/Opus from MediaRecorder)' }),
    onAir: Type.Integer({ description: 'clusters playing it now' }),
    targeted: Type.Integer(),
  },
  { $id: 'LiveSession' },
);
export type LiveSession = Static<typeof LiveSessionSchema>;
