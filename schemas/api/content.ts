import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { IdSchema, OffsetSchema, Sha256Schema, TimestampSchema } from '../common.ts';

export const CONTENT_STATES = ['uploading', 'transcoding', 'ready', 'failed'] as const;
export type ContentState = (typeof CONTENT_STATES)[number];
/** `recording`: the audio of a live or relayed airing as it went out (issue 12), kept for the broadcast log. */
export const CONTENT_SOURCES = ['upload', 'tts', 'playlist', 'recording'] as const;
export type ContentSource = (typeof CONTENT_SOURCES)[number];

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const ContentLoudnessSchema = Type.Object({
  integratedLufs: Type.Number({ description: 'EBU R128 integrated loudness of the stored (transcoded) file; target −16 LUFS' }),
  truePeakDbtp: Type.Number({ description: 'true peak of the stored file, dBTP; target ≤ −1.5' }),
  inputLufs: Type.Number({ description: 'integrated loudness of the original as uploaded' }),
});
export type ContentLoudness = Static<typeof ContentLoudnessSchema>;

/** One item of the content library (thư viện âm thanh): an uploaded or synthesised recording in the device format. */
export const ContentSchema = Type.Object(
  {
    id: IdSchema,
    state: Type.Union(CONTENT_STATES.map((s) => Type.Literal(s)), { description: 'uploading → transcoding → ready | failed' }),
    progress: Nullable(Type.Integer({ minimum: 0, maximum: 100, description: 'transcode percentage while transcoding (in memory; null otherwise)' })),
    error: Nullable(Type.String({ description: 'why the item failed' })),
    source: Type.Union(CONTENT_SOURCES.map((s) => Type.Literal(s))),
    title: Nullable(Type.String()),
    originalName: Nullable(Type.String()),
    originalSha256: Nullable(Sha256Schema),
    originalBytes: Nullable(Type.Integer({ minimum: 0 })),
    sha256: Nullable(Sha256Schema),
    bytes: Nullable(Type.Integer({ minimum: 0, description: 'size of the stored Opus/Ogg file' })),
    durationMs: Nullable(Type.Integer({ minimum: 0 })),
    loudness: Nullable(ContentLoudnessSchema),
    createdBy: Nullable(Type.String()),
    createdAt: TimestampSchema,
  },
  { $id: 'Content' },
);
export type Content = Static<typeof ContentSchema>;

export const ContentParamsSchema = Type.Object({ id: IdSchema });

/** A broadcast not yet over (awaiting approval, scheduled, on air) that airs an item. */
export const ContentUseSchema = Type.Object({
  broadcastId: IdSchema,
  title: Type.String(),
  state: Type.String({ description: 'pending_approval, scheduled or airing' }),
});
export type ContentUse = Static<typeof ContentUseSchema>;

/** 409 to a deletion: the broadcasts not yet over (awaiting approval, scheduled, on air) that air the item. */
export const ContentInUseSchema = Type.Object(
  {
    statusCode: Type.Literal(409),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    details: Type.Array(ContentUseSchema, { description: 'cancel these (or wait until they end) before deleting the item' }),
  },
  { $id: 'ContentInUse' },
);
export type ContentInUse = Static<typeof ContentInUseSchema>;

export const ContentListQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(OffsetSchema),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'part of the title; case and Vietnamese diacritics are ignored ("tiem chung" finds "Tiêm chủng")' })),
  source: Type.Optional(Type.Union(CONTENT_SOURCES.map((s) => Type.Literal(s)), { description: 'only items of this origin (the recordings library lists uploads)' })),
});
export type ContentListQuery = Static<typeof ContentListQuerySchema>;

/** An item as the library lists it: with what holds it (deletion is refused while usedBy is not empty) and its last airing. */
export const ContentListItemSchema = Type.Object(
  {
    ...ContentSchema.properties,
    createdByName: Nullable(Type.String({ description: 'the uploader\'s display name, else username (createdBy is the user id); null for the system or a removed account' })),
    usedBy: Type.Array(ContentUseSchema, { description: 'broadcasts not yet over that air it; deleting is refused while there is one' }),
    lastAiredAt: Nullable(Type.String({ format: 'date-time', description: 'when a broadcast of it last went on air (airing or over); null if none has' })),
  },
  { $id: 'ContentListItem' },
);
export type ContentListItem = Static<typeof ContentListItemSchema>;

export const UploadQuerySchema = Type.Object({
  wait: Type.Optional(
    Type.Boolean({ default: true, description: 'true: answer 201 once transcoded; false: answer 202 at once and poll GET /content/{id}' }),
  ),
});

/** What the broadcast service needs to put an item in a device's play list. */
export const PlayableSchema = Type.Object({
  sha256: Sha256Schema,
  size: Type.Integer({ minimum: 1 }),
  durationMs: Type.Integer({ minimum: 0 }),
});
export type Playable = Static<typeof PlayableSchema>;

export const ChimeSchema = Type.Object({
  before: Type.Optional(Type.Boolean({ description: 'a two-tone chime before the speech' })),
  after: Type.Optional(Type.Boolean({ description: 'the chime after the speech' })),
});

export const TtsRequestSchema = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 5000, description: 'Vietnamese text; numbers, dates, times, units and abbreviations are read out' }),
  voice: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  speed: Type.Optional(Type.Number({ minimum: 0.5, maximum: 2, default: 1, description: '1 = normal bulletin pace' })),
  chime: Type.Optional(ChimeSchema),
  engine: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
export type TtsRequest = Static<typeof TtsRequestSchema>;

export const TtsVoicesSchema = Type.Array(
  Type.Object({
    engine: Type.String(),
    default: Type.Boolean({ description: 'the engine used when a request names none' }),
    voices: Type.Array(Type.String(), { description: 'the first is the engine default' }),
  }),
);
export type TtsVoices = Static<typeof TtsVoicesSchema>;
