/**
 * The PostgreSQL twin of schema.ts (issue 13, LOA_DB_URL=postgres://…): the same tables, column names, keys,
 * indexes and TypeScript row types, so code typed against the SQLite tables runs unchanged on these.
 * test/db-dialects.test.ts fails when one schema changes without the other.
 *
 * Type mapping, and why:
 * - ms timestamps are `bigint` in number mode: they pass 2^31 (int4) since 1970-01-25; JS numbers hold them exactly.
 * - Integers a client (device or API) can push without a maximum, and sizes/durations in bytes or ms, are bigint
 *   too: SQLite's INTEGER is 64-bit, so a value it accepts must not become an "integer out of range" here
 *   (airing report seq/positionMs, a device's manifest `since` that raises the version, malformed-message
 *   counters, file sizes, durations). Values bounded by a schema (volume 0–100, repeat ≤ 50, seconds ≤ 86 400,
 *   programme versions) stay `integer`.
 * - `integer({mode:'boolean'})` → boolean, `text({mode:'json'})` → jsonb, real → double precision.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';

/** ms since the epoch; bigint because a number-typed ms timestamp overflows int4. */
const ms = (name: string) => bigint(name, { mode: 'number' });

// statement_timestamp() is the closest to SQLite's unixepoch('subsec'), which is fixed per statement, not per
// transaction (now()); floored because the column holds whole ms.
const createdAt = () => ms('created_at').notNull().default(sql`(floor(extract(epoch from statement_timestamp()) * 1000))::bigint`);

/** Administrative tree of configurable depth: province → [district] → commune → hamlet/zone. */
export const areas = pgTable(
  'areas',
  {
    id: text('id').primaryKey(),
    parentId: text('parent_id').references((): any => areas.id, { onDelete: 'restrict' }),
    name: text('name').notNull(),
    code: text('code'),
    kind: text('kind').notNull(),
    /** who must approve an operator's broadcast here: 'none' | 'required' | 'required-except-emergency'; null = inherit */
    approvalPolicy: text('approval_policy'),
    /** quiet hours, time zone, session caps (AreaPolicy); fields left out are inherited */
    policy: jsonb('policy'),
    createdAt: createdAt(),
  },
  (t) => [index('areas_parent_idx').on(t.parentId), uniqueIndex('areas_code_uq').on(t.code)],
);

export const clusters = pgTable(
  'clusters',
  {
    id: text('id').primaryKey(),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
    name: text('name').notNull(),
    serial: text('serial').notNull(),
    model: text('model'),
    hardwareVersion: text('hardware_version'),
    firmwareVersion: text('firmware_version'),
    lat: doublePrecision('lat'),
    lon: doublePrecision('lon'),
    installedOn: text('installed_on'),
    notes: text('notes'),
    createdAt: createdAt(),
    updatedAt: ms('updated_at'),
  },
  (t) => [index('clusters_area_idx').on(t.areaId), uniqueIndex('clusters_serial_uq').on(t.serial)],
);

export const speakerOutputs = pgTable(
  'speaker_outputs',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    index: integer('idx').notNull(),
    label: text('label').notNull(),
    ratedW: doublePrecision('rated_w'),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.index] })],
);

/** One MQTT credential per cluster. Only the SHA-256 of the (≥128-bit random) secret is stored. */
export const deviceCredentials = pgTable('device_credentials', {
  clusterId: text('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
  secretHash: text('secret_hash'),
  issuedAt: ms('issued_at').notNull(),
  revokedAt: ms('revoked_at'),
});

/** Latest known health of a cluster; the time series lives in `telemetry`. */
export const clusterState = pgTable('cluster_state', {
  clusterId: text('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
  online: boolean('online').notNull().default(false),
  lastSeen: ms('last_seen'),
  changedAt: ms('changed_at'),
  birth: jsonb('birth'),
  telemetry: jsonb('telemetry'),
  telemetryAt: ms('telemetry_at'),
  faultCount: integer('fault_count').notNull().default(0),
  // grows with every malformed message a device sends, for as long as it keeps sending them
  malformedCount: bigint('malformed_count', { mode: 'number' }).notNull().default(0),
});

/**
 * Rows arrive in time order and retention deletes by `ts` alone (`ts < cutoff`, every cluster), which the
 * (cluster_id, ts) btree cannot serve: the BRIN index on `ts` answers it for a few pages of index, where a second
 * btree would cost a write per row on the busiest table. Not partitioned: drizzle-kit does not generate partitioned
 * tables, and a BRIN-driven delete is enough at a commune's volume (tens of clusters, a row every 30 s each by default:
 * about 100 000 rows a day).
 */
export const telemetry = pgTable(
  'telemetry',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    ts: ms('ts').notNull(),
    mainsV: doublePrecision('mains_v'),
    onBattery: boolean('on_battery').notNull(),
    batteryV: doublePrecision('battery_v').notNull(),
    batteryPct: doublePrecision('battery_pct').notNull(),
    relayTripped: boolean('relay_tripped').notNull(),
    ampTempC: doublePrecision('amp_temp_c').notNull(),
    rssiDbm: doublePrecision('rssi_dbm').notNull(),
    volume: integer('volume').notNull(),
    faultyOutputs: integer('faulty_outputs').notNull(),
    clockOffsetMs: doublePrecision('clock_offset_ms'),
  },
  (t) => [index('telemetry_cluster_ts_idx').on(t.clusterId, t.ts), index('telemetry_ts_brin').using('brin', t.ts)],
);

export const deviceEvents = pgTable(
  'device_events',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    ts: ms('ts').notNull(),
    receivedAt: ms('received_at').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.eventId] }), index('device_events_ts_idx').on(t.clusterId, t.ts)],
);

export const commands = pgTable(
  'commands',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    args: jsonb('args'),
    issuedAt: ms('issued_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    issuedBy: text('issued_by'),
    state: text('state').notNull(),
    reason: text('reason'),
    repliedAt: ms('replied_at'),
  },
  (t) => [index('commands_cluster_idx').on(t.clusterId, t.issuedAt)],
);

/** Custom groups (beyond the area tree) that a device is told to follow. */
export const groups = pgTable('groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const groupMembers = pgTable(
  'group_members',
  {
    groupId: text('group_id').notNull().references(() => groups.id, { onDelete: 'cascade' }),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.clusterId] })],
);

export const users = pgTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  displayName: text('display_name'),
  passwordHash: text('password_hash').notNull(),
  role: text('role').notNull(),
  locale: text('locale').notNull().default('vi'),
  disabledAt: ms('disabled_at'),
  createdAt: createdAt(),
});

/** Areas a user may see and act on (their subtrees). An admin with no rows sees everything. */
export const userAreas = pgTable(
  'user_areas',
  {
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.areaId] })],
);

export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    // "by default", not "always": SQLite's autoincrement key also accepts an explicit id (imports, restores)
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    at: ms('at').notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    details: jsonb('details'),
    ip: text('ip'),
  },
  (t) => [index('audit_at_idx').on(t.at)],
);

/** Audio addressed by the sha256 of the transcoded (device-format) file; the original upload is kept beside it. */
export const content = pgTable(
  'content',
  {
    id: text('id').primaryKey(),
    sha256: text('sha256'),
    state: text('state').notNull(), // uploading | transcoding | ready | failed
    error: text('error'),
    source: text('source').notNull(), // upload | tts
    title: text('title'),
    originalName: text('original_name'),
    originalSha256: text('original_sha256'),
    originalBytes: bigint('original_bytes', { mode: 'number' }),
    bytes: bigint('bytes', { mode: 'number' }),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    loudnessLufs: doublePrecision('loudness_lufs'),
    truePeakDbtp: doublePrecision('true_peak_dbtp'),
    inputLoudnessLufs: doublePrecision('input_loudness_lufs'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [index('content_sha_idx').on(t.sha256), index('content_original_idx').on(t.originalSha256)],
);

/** Synthesised speech, keyed by hash(text, engine, voice, speed, chime) so the same bulletin is synthesised once. */
export const ttsCache = pgTable('tts_cache', {
  key: text('key').primaryKey(),
  contentId: text('content_id').notNull().references(() => content.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
});

/**
 * How the commune wants a written word read aloud (a hamlet's name, a local word): applied before the built-in
 * reading rules, so `written` is matched as the operator typed it.
 */
export const ttsPronunciations = pgTable(
  'tts_pronunciations',
  {
    id: text('id').primaryKey(),
    communeId: text('commune_id').notNull().references(() => areas.id, { onDelete: 'cascade' }),
    written: text('written').notNull(),
    spoken: text('spoken').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [uniqueIndex('tts_pronunciations_written_uq').on(t.communeId, t.written)],
);

export const broadcasts = pgTable(
  'broadcasts',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    level: text('level').notNull(),
    state: text('state').notNull(),
    source: jsonb('source').notNull(),
    targets: jsonb('targets').notNull(),
    contentId: text('content_id').references(() => content.id),
    startAt: ms('start_at'),
    expiresAt: ms('expires_at'),
    volume: integer('volume'),
    repeatCount: integer('repeat_count').notNull().default(1),
    repeatIntervalS: integer('repeat_interval_s').notNull().default(0),
    onPreempt: text('on_preempt').notNull().default('resume'),
    priorityOrder: integer('priority_order'),
    maxWaitS: integer('max_wait_s'),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
    approvedBy: text('approved_by'),
    approvedAt: ms('approved_at'),
    rejectReason: text('reject_reason'),
    cancelledBy: text('cancelled_by'),
    cancelledAt: ms('cancelled_at'),
    /** set on the broadcasts the planner makes of a programme's occurrences */
    programmeId: text('programme_id'),
  },
  (t) => [index('broadcasts_state_idx').on(t.state, t.startAt), index('broadcasts_created_idx').on(t.createdAt), index('broadcasts_start_idx').on(t.startAt)],
);

/** One broadcast on one cluster: its delivery and proof-of-play state, per airing (repeat) `seq`. */
export const airings = pgTable(
  'airings',
  {
    broadcastId: text('broadcast_id').notNull().references(() => broadcasts.id, { onDelete: 'cascade' }),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    // the same type as airing_reports.seq, which a device sends unbounded, so the two compare without a cast
    seq: bigint('seq', { mode: 'number' }).notNull(),
    state: text('state').notNull(),
    outputs: jsonb('outputs'),
    scheduledAt: ms('scheduled_at'),
    receivedAt: ms('received_at'),
    downloadedAt: ms('downloaded_at'),
    startedAt: ms('started_at'),
    finishedAt: ms('finished_at'),
    reason: text('reason'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.clusterId, t.seq] }), index('airings_cluster_idx').on(t.clusterId, t.updatedAt)],
);

/** Every airing report as received, once per (cluster, report id): redelivery after an outage is idempotent. */
export const airingReports = pgTable(
  'airing_reports',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    reportId: text('report_id').notNull(),
    broadcastId: text('broadcast_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    state: text('state').notNull(),
    deviceTs: ms('device_ts').notNull(),
    serverTs: doublePrecision('server_ts'),
    receivedAt: ms('received_at').notNull(),
    reason: text('reason'),
    positionMs: bigint('position_ms', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.reportId] }), index('airing_reports_bc_idx').on(t.broadcastId)],
);

/** The per-cluster store-and-forward manifest: items with the version at which they last changed; removals kept as tombstones. */
export const manifestItems = pgTable(
  'manifest_items',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    itemId: text('item_id').notNull(),
    broadcastId: text('broadcast_id').notNull(),
    // versions: a device that claims to be ahead raises its cluster's version above what it sent, unbounded
    rev: bigint('rev', { mode: 'number' }).notNull(),
    removed: boolean('removed').notNull().default(false),
    item: jsonb('item').notNull(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.itemId] }), index('manifest_rev_idx').on(t.clusterId, t.rev)],
);

export const manifestVersions = pgTable('manifest_versions', {
  clusterId: text('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
  version: bigint('version', { mode: 'number' }).notNull(),
  /** deltas from versions below this are no longer possible (tombstones pruned): send a snapshot */
  floor: bigint('floor', { mode: 'number' }).notNull().default(0),
});

/**
 * Alarms (issue 10, grown by issue 14): a cluster's fault from first occurrence until cleared and acknowledged.
 * The partial unique index holds "one open alarm per (cluster, type)": a fault that returns before anyone
 * acknowledged it reopens the same row (count + 1) instead of adding another.
 */
export const alarms = pgTable(
  'alarms',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    /** the fault code (mains-lost, output-1-open …) or offline */
    type: text('type').notNull(),
    severity: text('severity').notNull(),
    raisedAt: ms('raised_at').notNull(),
    lastAt: ms('last_at').notNull(),
    clearedAt: ms('cleared_at'),
    // a flapping fault nobody acknowledges adds one per return, with no bound
    count: bigint('count', { mode: 'number' }).notNull().default(1),
    ackedBy: text('acked_by'),
    ackedByName: text('acked_by_name'),
    ackedAt: ms('acked_at'),
    ackNote: text('ack_note'),
  },
  (t) => [
    uniqueIndex('alarms_open_uq').on(t.clusterId, t.type).where(sql`${t.clearedAt} is null or ${t.ackedAt} is null`),
    index('alarms_cluster_idx').on(t.clusterId, t.raisedAt),
    index('alarms_raised_idx').on(t.raisedAt),
  ],
);

/** A recurring item of the commune's timetable (issue 11). What it airs lives in its versions. */
export const programmes = pgTable(
  'programmes',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
    colour: text('colour').notNull(),
    /** the approved version, which airs; null until the first approval */
    liveVersion: integer('live_version'),
    /** a change awaiting approval; the live version airs meanwhile */
    pendingVersion: integer('pending_version'),
    latestVersion: integer('latest_version').notNull(),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
    deletedBy: text('deleted_by'),
    deletedAt: ms('deleted_at'),
  },
  (t) => [index('programmes_area_idx').on(t.areaId)],
);

/** Every saved version of a programme: an approved version is never edited, a change is a new version. */
export const programmeVersions = pgTable(
  'programme_versions',
  {
    programmeId: text('programme_id').notNull().references(() => programmes.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    state: text('state').notNull(),
    body: jsonb('body').notNull(),
    /** null for a relay programme: it airs a live source, not stored content */
    contentId: text('content_id').references(() => content.id),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull(),
    createdBy: text('created_by'),
    createdAt: ms('created_at').notNull(),
    approvedBy: text('approved_by'),
    approvedAt: ms('approved_at'),
    rejectReason: text('reject_reason'),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.version] })],
);

/**
 * The planner's ledger: one row per (programme, version, occurrence) it has dealt with — planned into a broadcast
 * (written in the same transaction), missed with the reason, or superseded by a later version. The key is what
 * makes planning idempotent across kill -9: an occurrence with a row is never planned again.
 */
export const programmeOccurrences = pgTable(
  'programme_occurrences',
  {
    programmeId: text('programme_id').notNull().references(() => programmes.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** the instant the schedule names */
    occurrenceAt: ms('occurrence_at').notNull(),
    /** when it airs: later than occurrenceAt when moved out of quiet hours or after a clash */
    startAt: ms('start_at').notNull(),
    endAt: ms('end_at').notNull(),
    state: text('state').notNull(),
    reason: text('reason'),
    broadcastId: text('broadcast_id'),
    flag: text('flag'),
    plannedAt: ms('planned_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.version, t.occurrenceAt] }), index('occurrences_start_idx').on(t.startAt), index('occurrences_broadcast_idx').on(t.broadcastId)],
);

/**
 * Durable periodic work: when each job is next due, how often it failed in a row and why. A restarted server (or
 * another leader) picks up from here; the lease keeps two runners from taking the same job at once.
 */
export const jobs = pgTable('jobs', {
  name: text('name').primaryKey(),
  dueAt: ms('due_at').notNull(),
  intervalMs: bigint('interval_ms', { mode: 'number' }).notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  lastRunAt: ms('last_run_at'),
  lastOkAt: ms('last_ok_at'),
  leaseUntil: ms('lease_until'),
});

/** Upstream radio an area relays (issue 12): ingested once by the server, with backups and a filler. */
export const relaySources = pgTable(
  'relay_sources',
  {
    id: text('id').primaryKey(),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    primaryUrl: text('primary_url').notNull(),
    backupUrls: jsonb('backup_urls').notNull().$type<string[]>(),
    fillerContentId: text('filler_content_id'),
    stallS: integer('stall_s').notNull(),
    retryS: integer('retry_s').notNull(),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('relay_sources_area_idx').on(t.areaId)],
);

/** Live microphone sessions from the console; each is one broadcast. */
export const liveSessions = pgTable('live_sessions', {
  id: text('id').primaryKey(),
  broadcastId: text('broadcast_id').notNull(),
  state: text('state').notNull(), // waiting | live | ended
  createdBy: text('created_by').notNull(),
  startedAt: ms('started_at').notNull(),
  endedAt: ms('ended_at'),
  endReason: text('end_reason'), // LIVE_END_REASONS; null while open
});

/** The audio as aired of a live or relayed broadcast: a content item (source 'recording'). */
export const liveRecordings = pgTable(
  'live_recordings',
  {
    broadcastId: text('broadcast_id').notNull(),
    contentId: text('content_id').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.contentId] }), index('live_recordings_created_idx').on(t.createdAt)],
);

/**
 * The input switches of a live stream while it aired a broadcast (started, failovers, recoveries), kept with the
 * broadcast so its log says what went out after the stream is gone; deleted with the recordings' retention.
 */
export const liveSwitches = pgTable(
  'live_switches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    broadcastId: text('broadcast_id').notNull(),
    at: ms('at').notNull(),
    from: text('from_input').notNull(),
    to: text('to_input').notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [index('live_switches_broadcast_idx').on(t.broadcastId, t.at), index('live_switches_at_idx').on(t.at)],
);
