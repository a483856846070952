import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const createdAt = () => integer('created_at', { mode: 'number' }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

/** Administrative tree of configurable depth: province → [district] → commune → hamlet/zone. */
export const areas = sqliteTable(
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
    policy: text('policy', { mode: 'json' }),
    createdAt: createdAt(),
  },
  (t) => [index('areas_parent_idx').on(t.parentId), uniqueIndex('areas_code_uq').on(t.code)],
);

export const clusters = sqliteTable(
  'clusters',
  {
    id: text('id').primaryKey(),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'restrict' }),
    name: text('name').notNull(),
    serial: text('serial').notNull(),
    model: text('model'),
    hardwareVersion: text('hardware_version'),
    firmwareVersion: text('firmware_version'),
    lat: real('lat'),
    lon: real('lon'),
    installedOn: text('installed_on'),
    notes: text('notes'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'number' }),
  },
  (t) => [index('clusters_area_idx').on(t.areaId), uniqueIndex('clusters_serial_uq').on(t.serial)],
);

export const speakerOutputs = sqliteTable(
  'speaker_outputs',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    index: integer('idx').notNull(),
    label: text('label').notNull(),
    ratedW: real('rated_w'),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.index] })],
);

/** One MQTT credential per cluster. Only the SHA-256 of the (≥128-bit random) secret is stored. */
export const deviceCredentials = sqliteTable('device_credentials', {
  clusterId: text('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
  secretHash: text('secret_hash'),
  issuedAt: integer('issued_at', { mode: 'number' }).notNull(),
  revokedAt: integer('revoked_at', { mode: 'number' }),
});

/** Latest known health of a cluster; the time series lives in `telemetry`. */
export const clusterState = sqliteTable('cluster_state', {
  clusterId: text('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
  online: integer('online', { mode: 'boolean' }).notNull().default(false),
  lastSeen: integer('last_seen', { mode: 'number' }),
  changedAt: integer('changed_at', { mode: 'number' }),
  birth: text('birth', { mode: 'json' }),
  telemetry: text('telemetry', { mode: 'json' }),
  telemetryAt: integer('telemetry_at', { mode: 'number' }),
  faultCount: integer('fault_count').notNull().default(0),
  malformedCount: integer('malformed_count').notNull().default(0),
});

export const telemetry = sqliteTable(
  'telemetry',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    ts: integer('ts', { mode: 'number' }).notNull(),
    mainsV: real('mains_v'),
    onBattery: integer('on_battery', { mode: 'boolean' }).notNull(),
    batteryV: real('battery_v').notNull(),
    batteryPct: real('battery_pct').notNull(),
    relayTripped: integer('relay_tripped', { mode: 'boolean' }).notNull(),
    ampTempC: real('amp_temp_c').notNull(),
    rssiDbm: real('rssi_dbm').notNull(),
    volume: integer('volume').notNull(),
    faultyOutputs: integer('faulty_outputs').notNull(),
    clockOffsetMs: real('clock_offset_ms'),
  },
  (t) => [index('telemetry_cluster_ts_idx').on(t.clusterId, t.ts)],
);

export const deviceEvents = sqliteTable(
  'device_events',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    ts: integer('ts', { mode: 'number' }).notNull(),
    receivedAt: integer('received_at', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    payload: text('payload', { mode: 'json' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.eventId] }), index('device_events_ts_idx').on(t.clusterId, t.ts)],
);

export const commands = sqliteTable(
  'commands',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    args: text('args', { mode: 'json' }),
    issuedAt: integer('issued_at', { mode: 'number' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'number' }).notNull(),
    issuedBy: text('issued_by'),
    state: text('state').notNull(),
    reason: text('reason'),
    repliedAt: integer('replied_at', { mode: 'number' }),
  },
  (t) => [index('commands_cluster_idx').on(t.clusterId, t.issuedAt)],
);

/** Custom groups (beyond the area tree) that a device is told to follow. */
export const groups = sqliteTable('groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: createdAt(),
});

export const groupMembers = sqliteTable(
  'group_members',
  {
    groupId: text('group_id').notNull().references(() => groups.id, { onDelete: 'cascade' }),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.clusterId] })],
);

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  displayName: text('display_name'),
  passwordHash: text('password_hash').notNull(),
  role: text('role').notNull(),
  locale: text('locale').notNull().default('vi'),
  disabledAt: integer('disabled_at', { mode: 'number' }),
  createdAt: createdAt(),
});

/** Areas a user may see and act on (their subtrees). An admin with no rows sees everything. */
export const userAreas = sqliteTable(
  'user_areas',
  {
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.areaId] })],
);

export const sessions = sqliteTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at', { mode: 'number' }).notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name').notNull(),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    details: text('details', { mode: 'json' }),
    ip: text('ip'),
  },
  (t) => [index('audit_at_idx').on(t.at)],
);

/** Audio addressed by the sha256 of the transcoded (device-format) file; the original upload is kept beside it. */
export const content = sqliteTable(
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
    originalBytes: integer('original_bytes'),
    bytes: integer('bytes'),
    durationMs: integer('duration_ms'),
    loudnessLufs: real('loudness_lufs'),
    truePeakDbtp: real('true_peak_dbtp'),
    inputLoudnessLufs: real('input_loudness_lufs'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [index('content_sha_idx').on(t.sha256), index('content_original_idx').on(t.originalSha256)],
);

/** Synthesised speech, keyed by hash(text, engine, voice, speed, chime) so the same bulletin is synthesised once. */
export const ttsCache = sqliteTable('tts_cache', {
  key: text('key').primaryKey(),
  contentId: text('content_id').notNull().references(() => content.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
});

/**
 * How the commune wants a written word read aloud (a hamlet's name, a local word): applied before the built-in
 * reading rules, so `written` is matched as the operator typed it.
 */
export const ttsPronunciations = sqliteTable(
  'tts_pronunciations',
  {
    id: text('id').primaryKey(),
    communeId: text('commune_id').notNull().references(() => areas.id, { onDelete: 'cascade' }),
    written: text('written').notNull(),
    spoken: text('spoken').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('tts_pronunciations_written_uq').on(t.communeId, t.written)],
);

export const broadcasts = sqliteTable(
  'broadcasts',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    level: text('level').notNull(),
    state: text('state').notNull(),
    source: text('source', { mode: 'json' }).notNull(),
    targets: text('targets', { mode: 'json' }).notNull(),
    contentId: text('content_id').references(() => content.id),
    startAt: integer('start_at', { mode: 'number' }),
    expiresAt: integer('expires_at', { mode: 'number' }),
    volume: integer('volume'),
    repeatCount: integer('repeat_count').notNull().default(1),
    repeatIntervalS: integer('repeat_interval_s').notNull().default(0),
    onPreempt: text('on_preempt').notNull().default('resume'),
    priorityOrder: integer('priority_order'),
    maxWaitS: integer('max_wait_s'),
    createdBy: text('created_by'),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
    approvedBy: text('approved_by'),
    approvedAt: integer('approved_at', { mode: 'number' }),
    rejectReason: text('reject_reason'),
    cancelledBy: text('cancelled_by'),
    cancelledAt: integer('cancelled_at', { mode: 'number' }),
    /** set on the broadcasts the planner makes of a programme's occurrences */
    programmeId: text('programme_id'),
  },
  (t) => [index('broadcasts_state_idx').on(t.state, t.startAt), index('broadcasts_created_idx').on(t.createdAt), index('broadcasts_start_idx').on(t.startAt)],
);

/** One broadcast on one cluster: its delivery and proof-of-play state, per airing (repeat) `seq`. */
export const airings = sqliteTable(
  'airings',
  {
    broadcastId: text('broadcast_id').notNull().references(() => broadcasts.id, { onDelete: 'cascade' }),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    state: text('state').notNull(),
    outputs: text('outputs', { mode: 'json' }),
    scheduledAt: integer('scheduled_at', { mode: 'number' }),
    receivedAt: integer('received_at', { mode: 'number' }),
    downloadedAt: integer('downloaded_at', { mode: 'number' }),
    startedAt: integer('started_at', { mode: 'number' }),
    finishedAt: integer('finished_at', { mode: 'number' }),
    reason: text('reason'),
    updatedAt: integer('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.clusterId, t.seq] }), index('airings_cluster_idx').on(t.clusterId, t.updatedAt)],
);

/** Every airing report as received, once per (cluster, report id): redelivery after an outage is idempotent. */
export const airingReports = sqliteTable(
  'airing_reports',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    reportId: text('report_id').notNull(),
    broadcastId: text('broadcast_id').notNull(),
    seq: integer('seq').notNull(),
    state: text('state').notNull(),
    deviceTs: integer('device_ts', { mode: 'number' }).notNull(),
    serverTs: real('server_ts'),
    receivedAt: integer('received_at', { mode: 'number' }).notNull(),
    reason: text('reason'),
    positionMs: integer('position_ms'),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.reportId] }), index('airing_reports_bc_idx').on(t.broadcastId)],
);

/** The per-cluster store-and-forward manifest: items with the version at which they last changed; removals kept as tombstones. */
export const manifestItems = sqliteTable(
  'manifest_items',
  {
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    itemId: text('item_id').notNull(),
    broadcastId: text('broadcast_id').notNull(),
    rev: integer('rev').notNull(),
    removed: integer('removed', { mode: 'boolean' }).notNull().default(false),
    item: text('item', { mode: 'json' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.itemId] }), index('manifest_rev_idx').on(t.clusterId, t.rev)],
);

export const manifestVersions = sqliteTable('manifest_versions', {
  clusterId: text('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
  version: integer('version').notNull(),
  /** deltas from versions below this are no longer possible (tombstones pruned): send a snapshot */
  floor: integer('floor').notNull().default(0),
});

/**
 * Alarms (issue 10, grown by issue 14): a cluster's fault from first occurrence until cleared and acknowledged.
 * The partial unique index holds "one open alarm per (cluster, type)": a fault that returns before anyone
 * acknowledged it reopens the same row (count + 1) instead of adding another.
 */
export const alarms = sqliteTable(
  'alarms',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    /** the fault code (mains-lost, output-1-open …) or offline */
    type: text('type').notNull(),
    severity: text('severity').notNull(),
    raisedAt: integer('raised_at', { mode: 'number' }).notNull(),
    lastAt: integer('last_at', { mode: 'number' }).notNull(),
    clearedAt: integer('cleared_at', { mode: 'number' }),
    count: integer('count').notNull().default(1),
    ackedBy: text('acked_by'),
    ackedByName: text('acked_by_name'),
    ackedAt: integer('acked_at', { mode: 'number' }),
    ackNote: text('ack_note'),
  },
  (t) => [
    uniqueIndex('alarms_open_uq').on(t.clusterId, t.type).where(sql`${t.clearedAt} is null or ${t.ackedAt} is null`),
    index('alarms_cluster_idx').on(t.clusterId, t.raisedAt),
    index('alarms_raised_idx').on(t.raisedAt),
  ],
);

/** A recurring item of the commune's timetable (issue 11). What it airs lives in its versions. */
export const programmes = sqliteTable(
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
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
    deletedBy: text('deleted_by'),
    deletedAt: integer('deleted_at', { mode: 'number' }),
  },
  (t) => [index('programmes_area_idx').on(t.areaId)],
);

/** Every saved version of a programme: an approved version is never edited, a change is a new version. */
export const programmeVersions = sqliteTable(
  'programme_versions',
  {
    programmeId: text('programme_id').notNull().references(() => programmes.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    state: text('state').notNull(),
    body: text('body', { mode: 'json' }).notNull(),
    /** null for a relay programme: it airs a live source, not stored content */
    contentId: text('content_id').references(() => content.id),
    durationMs: integer('duration_ms').notNull(),
    createdBy: text('created_by'),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
    approvedBy: text('approved_by'),
    approvedAt: integer('approved_at', { mode: 'number' }),
    rejectReason: text('reject_reason'),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.version] })],
);

/**
 * The planner's ledger: one row per (programme, version, occurrence) it has dealt with — planned into a broadcast
 * (written in the same transaction), missed with the reason, or superseded by a later version. The key is what
 * makes planning idempotent across kill -9: an occurrence with a row is never planned again.
 */
export const programmeOccurrences = sqliteTable(
  'programme_occurrences',
  {
    programmeId: text('programme_id').notNull().references(() => programmes.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    /** the instant the schedule names */
    occurrenceAt: integer('occurrence_at', { mode: 'number' }).notNull(),
    /** when it airs: later than occurrenceAt when moved out of quiet hours or after a clash */
    startAt: integer('start_at', { mode: 'number' }).notNull(),
    endAt: integer('end_at', { mode: 'number' }).notNull(),
    state: text('state').notNull(),
    reason: text('reason'),
    broadcastId: text('broadcast_id'),
    flag: text('flag'),
    plannedAt: integer('planned_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.programmeId, t.version, t.occurrenceAt] }), index('occurrences_start_idx').on(t.startAt), index('occurrences_broadcast_idx').on(t.broadcastId)],
);

/**
 * Durable periodic work: when each job is next due, how often it failed in a row and why. A restarted server (or
 * another leader) picks up from here; the lease keeps two runners from taking the same job at once.
 */
export const jobs = sqliteTable('jobs', {
  name: text('name').primaryKey(),
  dueAt: integer('due_at', { mode: 'number' }).notNull(),
  intervalMs: integer('interval_ms').notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  lastRunAt: integer('last_run_at', { mode: 'number' }),
  lastOkAt: integer('last_ok_at', { mode: 'number' }),
  leaseUntil: integer('lease_until', { mode: 'number' }),
});

/** Upstream radio an area relays (issue 12): ingested once by the server, with backups and a filler. */
export const relaySources = sqliteTable(
  'relay_sources',
  {
    id: text('id').primaryKey(),
    areaId: text('area_id').notNull().references(() => areas.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    primaryUrl: text('primary_url').notNull(),
    backupUrls: text('backup_urls', { mode: 'json' }).notNull().$type<string[]>(),
    fillerContentId: text('filler_content_id'),
    stallS: integer('stall_s').notNull(),
    retryS: integer('retry_s').notNull(),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('relay_sources_area_idx').on(t.areaId)],
);

/** Live microphone sessions from the console; each is one broadcast. */
export const liveSessions = sqliteTable('live_sessions', {
  id: text('id').primaryKey(),
  broadcastId: text('broadcast_id').notNull(),
  state: text('state').notNull(), // waiting | live | ended
  createdBy: text('created_by').notNull(),
  startedAt: integer('started_at', { mode: 'number' }).notNull(),
  endedAt: integer('ended_at', { mode: 'number' }),
  endReason: text('end_reason'), // LIVE_END_REASONS; null while open
});

/** The audio as aired of a live or relayed broadcast: a content item (source 'recording'). */
export const liveRecordings = sqliteTable(
  'live_recordings',
  {
    broadcastId: text('broadcast_id').notNull(),
    contentId: text('content_id').notNull(),
    createdAt: integer('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.broadcastId, t.contentId] }), index('live_recordings_created_idx').on(t.createdAt)],
);

/**
 * The input switches of a live stream while it aired a broadcast (started, failovers, recoveries), kept with the
 * broadcast so its log says what went out after the stream is gone; deleted with the recordings' retention.
 */
export const liveSwitches = sqliteTable(
  'live_switches',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    broadcastId: text('broadcast_id').notNull(),
    at: integer('at', { mode: 'number' }).notNull(),
    from: text('from_input').notNull(),
    to: text('to_input').notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [index('live_switches_broadcast_idx').on(t.broadcastId, t.at), index('live_switches_at_idx').on(t.at)],
);
