import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';

const Port = (def: number) => Type.Integer({ minimum: 0, maximum: 65535, default: def });
const Bool = (def: boolean) => Type.Boolean({ default: def });

/** Every setting of the server, read from LOA_* environment variables. `.env.example` mirrors this list. */
export const ConfigSchema = Type.Object({
  LOA_HTTP_HOST: Type.String({ default: '0.0.0.0', description: 'address the HTTP server binds' }),
  LOA_HTTP_PORT: Port(8080),
  LOA_MQTT_HOST: Type.String({ default: '0.0.0.0', description: 'address the MQTT listeners bind' }),
  LOA_MQTT_PORT: Port(1883),
  LOA_MQTT_TLS_PORT: Port(8883),
  LOA_MQTT_TLS_CERT: Type.String({ default: '', description: 'PEM certificate file; with the key, starts MQTTS' }),
  LOA_MQTT_TLS_KEY: Type.String({ default: '', description: 'PEM private key file' }),
  LOA_MQTT_MAX_PACKET_BYTES: Type.Integer({ minimum: 1024, maximum: 16_777_216, default: 65_536 }),
  LOA_MQTT_PUBLISH_RATE: Type.Number({ minimum: 1, maximum: 10_000, default: 20, description: 'publishes per second per client (burst = 5 s worth)' }),
  LOA_MQTT_MAX_SUBSCRIPTIONS: Type.Integer({ minimum: 4, maximum: 1000, default: 72, description: '4 own topics + cmd and play for up to 32 groups = 68' }),
  LOA_MQTT_URL: Type.String({ default: '', pattern: '^$|^mqtts?://', description: 'external broker (Mosquitto 2 with the dynamic-security plugin), e.g. mqtt://127.0.0.1:1883; empty = the embedded broker' }),
  LOA_MQTT_USERNAME: Type.String({ default: '', description: "the server's own account on the external broker (a dynamic-security admin)" }),
  LOA_MQTT_PASSWORD: Type.String({ default: '', description: 'password of that account' }),
  LOA_MQTT_CLIENT_ID: Type.String({ default: '', description: "this instance's client id on the external broker (its persistent session); empty = loa-server-<hostname>" }),
  LOA_MQTT_ACCOUNTS: Type.Union([Type.Literal('dynsec'), Type.Literal('hooks')], { default: 'dynsec', description: "how the external broker learns the devices' accounts: dynsec = the server manages Mosquitto dynamic-security clients and roles; hooks = the broker asks the server (EMQX HTTP authentication and authorisation, POST /api/emqx/authn and /api/emqx/authz; docs/emqx.md)" }),
  LOA_EMQX_HOOK_SECRET: Type.String({ default: '', description: 'shared secret EMQX sends in the x-loa-hook-secret header of its HTTP authentication and authorisation requests; empty = the hooks are off (404)' }),
  LOA_MQTT_CA_FILE: Type.String({ default: '', description: "mqtts:// only: PEM file of the CA(s) that signed the external broker's certificate; empty = the system's public CAs" }),
  LOA_MQTT_CLIENT_CERT_FILE: Type.String({ default: '', description: 'mqtts:// only: PEM client certificate the server presents to the external broker (with LOA_MQTT_CLIENT_KEY_FILE)' }),
  LOA_MQTT_CLIENT_KEY_FILE: Type.String({ default: '', description: 'PEM private key of that client certificate' }),
  LOA_MQTT_TLS_SERVERNAME: Type.String({ default: '', description: "mqtts:// only: the name the broker's certificate must carry when it is not the URL's host (e.g. the URL names an IP address); empty = the URL's host" }),
  LOA_DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  LOA_DB_FILE: Type.String({ default: '', description: 'SQLite file; default LOA_DATA_DIR/loa.sqlite, ":memory:" for tests' }),
  LOA_DB_URL: Type.String({ default: '', pattern: '^$|^postgres(ql)?://', description: 'PostgreSQL instead of the SQLite file, e.g. postgres://loa:…@127.0.0.1:5432/loa; empty = SQLite' }),
  LOA_LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  LOA_DEMO: Bool(false),
  LOA_ADMIN_PASSWORD: Type.String({ default: '', description: 'creates user admin on first run when set (min 10 chars)' }),
  LOA_PUBLIC_URL: Type.String({ default: '', description: 'base URL printed in the first-run setup link' }),
  LOA_TELEMETRY_INTERVAL_S: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
  LOA_TIME_SYNC_INTERVAL_S: Type.Integer({ minimum: 30, maximum: 86_400, default: 600 }),
  LOA_HEARTBEAT_TIMEOUT_S: Type.Integer({ minimum: 0, maximum: 86_400, default: 0, description: '0 = 2.5 × telemetry interval' }),
  LOA_TELEMETRY_MAX_BUFFERED: Type.Integer({ minimum: 100, maximum: 10_000_000, default: 100_000, description: 'telemetry rows held between flushes at most; more are dropped and counted (loa_telemetry_rows_dropped_total)' }),
  LOA_TELEMETRY_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
  LOA_SESSION_TTL_H: Type.Integer({ minimum: 1, maximum: 8760, default: 168 }),
  LOA_METRICS_TOKEN: Type.String({ default: '', description: 'when set, /metrics requires Authorization: Bearer <token>' }),
  LOA_EMERGENCY_VOLUME: Type.Integer({ minimum: 0, maximum: 100, default: 100 }),
  LOA_TRUST_PROXY: Type.Boolean({ default: false, description: 'behind a reverse proxy: believe its X-Forwarded-For/-Proto/-Host (client IP, https for the Secure cookie, the origin checked on console requests)' }),
  LOA_FFMPEG: Type.String({ default: '', description: 'path of an ffmpeg to use instead of the one npm installs (needs libopus and loudnorm)' }),
  LOA_MAX_UPLOAD_MB: Type.Integer({ minimum: 1, maximum: 2048, default: 50 }),
  LOA_MAX_AUDIO_S: Type.Integer({ minimum: 1, maximum: 14_400, default: 1800, description: 'longest audio accepted, seconds' }),
  LOA_TRANSCODE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 2 }),
  LOA_TTS_ENGINE: Type.Union([Type.Literal('espeak'), Type.Literal('http')], { default: 'espeak', description: 'engine used when a request names none' }),
  LOA_TTS_HTTP_URL: Type.String({ default: '', description: 'cloud TTS endpoint: receives POST {text, voice, speed}, returns WAV or MP3' }),
  LOA_TTS_HTTP_KEY: Type.String({ default: '', description: 'API key of that provider' }),
  LOA_TTS_HTTP_KEY_HEADER: Type.String({ default: 'authorization', description: 'header for the key; authorization sends Bearer <key>' }),
  LOA_TTS_HTTP_VOICES: Type.String({ default: '', description: 'comma-separated provider voices, the first is the default; URL and voices enable the engine' }),
  LOA_TTS_HTTP_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 120_000, default: 20_000 }),
  LOA_QUIET_HOURS: Type.String({ default: '', pattern: '^$|^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'daily window with no normal or priority airings, e.g. 21:00-05:00; empty = none' }),
  LOA_TILE_URL: Type.String({ default: '', description: 'map tile URL template for the console ({z}/{x}/{y}); empty = clusters on a plain background' }),
  LOA_TILE_DIR: Type.String({ default: '', description: 'directory of map tiles {z}/{x}/{y}.png|.jpg|.jpeg|.webp served at /tiles (offline communes); replaces LOA_TILE_URL' }),
  LOA_TILE_MBTILES: Type.String({ default: '', description: 'MBTiles file of raster tiles served at /tiles (read-only); replaces LOA_TILE_URL, tried before LOA_TILE_DIR when both are set' }),
  LOA_TILE_ATTRIBUTION: Type.String({ default: '', description: 'text shown on the map for the tiles, e.g. "© OpenStreetMap"' }),
  LOA_AREA_OUTLINES: Type.String({ default: '', description: 'GeoJSON FeatureCollection file of area outlines (properties.areaId) drawn on the map' }),
  LOA_TIMEZONE: Type.String({ default: 'Asia/Ho_Chi_Minh', description: 'time zone of quiet hours and of the console' }),
  LOA_LIVE_LATENCY_MS: Type.Integer({ minimum: 200, maximum: 10_000, default: 1000, description: 'live streams: every cluster plays the audio stamped t at t + this (its jitter buffer)' }),
  LOA_LIVE_MAX_S: Type.Integer({ minimum: 60, maximum: 86_400, default: 14_400, description: 'longest live microphone session; it ends by itself after this' }),
  LOA_RECORDING_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 90, description: 'recordings of live and relayed airings are deleted after this many days' }),
  LOA_ICECAST_URL: Type.String({ default: '', description: 'distribute live streams through this Icecast 2 (http://source:password@host:port): the server is its source client and clusters listen there' }),
  LOA_SYNC_LEAD_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 3000, description: 'a "now" broadcast starts this much later, so every cluster of a commune starts together' }),
  LOA_PLANNER_HORIZON_H: Type.Integer({ minimum: 1, maximum: 168, default: 48, description: "how far ahead the planner turns programmes into airings in the devices' manifests" }),
  LOA_BROADCAST_GRACE_S: Type.Integer({ minimum: 60, maximum: 86_400, default: 900, description: 'an order stays valid this long after its last airing should have ended' }),
});
export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {}

function describe(schema: any): string {
  if (schema.anyOf) return 'one of ' + schema.anyOf.map((s: any) => JSON.stringify(s.const)).join(', ');
  const parts = [schema.type === 'integer' ? 'an integer' : schema.type === 'number' ? 'a number' : schema.type === 'boolean' ? 'true or false (1/0)' : 'a string'];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.minLength) parts.push(`non-empty`);
  return parts.join(' ');
}

/**
 * The external link's TLS files are read when it connects, after the database is open: checked here, so a typo
 * stops the process with exit code 2 and the variable's name instead of a stack trace from the connect.
 */
function externalTlsProblems(c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const files = ['LOA_MQTT_CA_FILE', 'LOA_MQTT_CLIENT_CERT_FILE', 'LOA_MQTT_CLIENT_KEY_FILE'] as const;
  const set = [...files, 'LOA_MQTT_TLS_SERVERNAME'].filter((k) => c[k]);
  if (set.length && !/^mqtts:\/\//.test(String(c.LOA_MQTT_URL ?? ''))) {
    // Without TLS these would be ignored, and an operator who set a CA believes the link is verified.
    const url = c.LOA_MQTT_URL ? `LOA_MQTT_URL=${JSON.stringify(c.LOA_MQTT_URL)}` : 'LOA_MQTT_URL is empty';
    problems.push(`${set.join(', ')} ${set.length > 1 ? 'apply' : 'applies'} only to an mqtts:// LOA_MQTT_URL (${url})`);
  }
  if (Boolean(c.LOA_MQTT_CLIENT_CERT_FILE) !== Boolean(c.LOA_MQTT_CLIENT_KEY_FILE)) {
    problems.push('LOA_MQTT_CLIENT_CERT_FILE and LOA_MQTT_CLIENT_KEY_FILE must be set together');
  }
  for (const k of files) {
    const f = c[k];
    if (typeof f !== 'string' || !f) continue;
    try {
      if (!statSync(f).isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
      accessSync(f, fsConstants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const why = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'not a file' }[code] ?? (code || String(e));
      problems.push(`${k}=${JSON.stringify(f)} cannot be read: ${why}`);
    }
  }
  return problems;
}

/** Validates the environment. Throws ConfigError naming every bad variable and what it accepts. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  const converted = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw)) as Record<string, unknown>;
  Object.assign(converted, overrides);
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    if (!Value.Check(schema, converted[key])) problems.push(`${key}=${JSON.stringify(env[key] ?? converted[key])} is invalid: expected ${describe(schema)}`);
  }
  if (converted.LOA_ADMIN_PASSWORD && String(converted.LOA_ADMIN_PASSWORD).length < 10) {
    problems.push('LOA_ADMIN_PASSWORD is too short: expected at least 10 characters');
  }
  if (Boolean(converted.LOA_MQTT_TLS_CERT) !== Boolean(converted.LOA_MQTT_TLS_KEY)) {
    problems.push('LOA_MQTT_TLS_CERT and LOA_MQTT_TLS_KEY must be set together');
  }
  problems.push(...externalTlsProblems(converted));
  if (problems.length) throw new ConfigError('Invalid configuration:\n  ' + problems.join('\n  '));
  return converted as Config;
}

export const heartbeatTimeoutMs = (c: Config): number =>
  (c.LOA_HEARTBEAT_TIMEOUT_S || c.LOA_TELEMETRY_INTERVAL_S * 2.5) * 1000;
