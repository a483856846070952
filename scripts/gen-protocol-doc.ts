/**
 * Renders docs/device-protocol.md — the public contract hardware vendors build firmware against — from the protocol's
 * single source of truth: the topic catalog and payload schemas in schemas/device-protocol/, the server defaults in
 * server/src/config.ts, the fault derivation in server/src/health/faults.ts, and the hand-written prose in
 * docs/device-protocol.template.md.
 *
 *   npm run docs:protocol               write docs/device-protocol.md
 *   npm run docs:protocol -- --check    exit 1 if the committed doc differs from what would be generated
 *
 * The template is ordinary Markdown with two kinds of placeholders:
 *   {{NAME}}                    a value (port, limit, enum list …) taken from code; see `values()`
 *   <!-- @generate NAME -->     a generated block (tables, topic reference …); see `blocks()`
 * An unknown placeholder is an error, so a typo cannot silently reach vendors.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { CATALOG, type TopicSpec } from '../schemas/device-protocol/catalog.ts';
import { DEVICE_DOWN, DEVICE_UP, PROTOCOL_VERSION, TOPIC_ROOT } from '../schemas/device-protocol/topics.ts';
import { COMMAND_NAMES, COMMAND_RESULTS, CommandArgsSchemas, type CommandName } from '../schemas/device-protocol/commands.ts';
import { EVENT_TYPES, type EventType } from '../schemas/device-protocol/events.ts';
import { OUTPUT_STATES, NETWORK_TYPES, type Telemetry } from '../schemas/device-protocol/telemetry.ts';
import { RebootReasonSchema } from '../schemas/device-protocol/presence.ts';
import { DeviceConfigSchema } from '../schemas/device-protocol/config.ts';
import { clockOffset } from '../schemas/device-protocol/time-sync.ts';
import { STREAM_EPOCH_HEADER, STREAM_EPOCH_TAG } from '../schemas/device-protocol/stream.ts';
import { payloadCodec } from '../schemas/device-protocol/codec.ts';
import { IdSchema } from '../schemas/common.ts';
import { FleetFileSchema } from '../schemas/fleet-file.ts';
import { ConfigSchema, heartbeatTimeoutMs, loadConfig } from '../server/src/config.ts';
import { BATTERY_LOW_PCT, OVERHEAT_C, faultsOf } from '../server/src/health/faults.ts';
import { newDeviceSecret } from '../server/src/devices/credentials.ts';

export const DOC_PATH = fileURLToPath(new URL('../docs/device-protocol.md', import.meta.url));
export const TEMPLATE_PATH = fileURLToPath(new URL('../docs/device-protocol.template.md', import.meta.url));

/**
 * Broker behaviour that the server does not export as a constant, restated here. BROKER_SOURCES says where each value
 * lives, and test/protocol-doc.test.ts reads those files, so a change there fails the test instead of going stale.
 */
export const BROKER = {
  /** server/src/mqtt/policy.ts: bucket capacity = publishRate × 5 */
  burstSeconds: 5,
  /** server/src/mqtt/policy.ts: MAX_THROTTLE_MS */
  maxThrottleS: 5,
  /** server/src/mqtt/packet-guard.ts: a packet is cut when remaining length + 5 > max */
  fixedHeaderAllowance: 5,
  /** aedes default connectTimeout */
  connectTimeoutS: 30,
  /** server/src/mqtt/broker.ts: queueLimit (packets accepted before CONNACK) */
  preConnackQueue: 64,
  /** server/src/mqtt/broker.ts: maxClientsIdLength */
  maxClientIdLength: 64,
  /** server/src/mqtt/broker.ts: maxTopicLevels */
  maxTopicLevels: 8,
  /** aedes: a connection silent for 1.5 × keepalive is closed */
  keepaliveGrace: 1.5,
};

/** Where each BROKER value comes from: the first capture of `pattern` in `file`, divided by `unit`. */
export const BROKER_SOURCES: { fact: keyof typeof BROKER; file: string; pattern: RegExp; unit?: number }[] = [
  { fact: 'burstSeconds', file: 'server/src/mqtt/policy.ts', pattern: /new Bucket\(o\.publishRate, o\.publishRate \* ([\d_]+)/ },
  { fact: 'maxThrottleS', file: 'server/src/mqtt/policy.ts', pattern: /MAX_THROTTLE_MS = ([\d_]+)/, unit: 1000 },
  { fact: 'fixedHeaderAllowance', file: 'server/src/mqtt/packet-guard.ts', pattern: /len \+ (\d+) > this\.maxBytes/ },
  { fact: 'connectTimeoutS', file: 'node_modules/aedes/aedes.js', pattern: /connectTimeout: ([\d_]+)/, unit: 1000 },
  { fact: 'preConnackQueue', file: 'server/src/mqtt/broker.ts', pattern: /queueLimit: ([\d_]+)/ },
  { fact: 'maxClientIdLength', file: 'server/src/mqtt/broker.ts', pattern: /maxClientsIdLength: ([\d_]+)/ },
  { fact: 'maxTopicLevels', file: 'server/src/mqtt/broker.ts', pattern: /maxTopicLevels: ([\d_]+)/ },
  { fact: 'keepaliveGrace', file: 'node_modules/aedes/lib/handlers/connect.js', pattern: /keepalive \* ([\d_]+)\)/, unit: 1000 },
];

/** Ids used to turn topic patterns into concrete examples. The group comes from the catalog's config example. */
const EXAMPLE_CLUSTER_ID = 'cl-7k2m9xq4ta';

// ---------------------------------------------------------------------------------------------------------------
// Hand-written prose keyed by code enumerations. `Record<Name, …>` makes tsc reject a missing or extra entry, and
// render() re-checks at run time, so a new command or event type cannot reach the doc undescribed.
// ---------------------------------------------------------------------------------------------------------------

const COMMAND_GUIDE: Record<CommandName, { action: string; reply: string }> = {
  ping: {
    action: 'Nothing. Proves the command path works end to end.',
    reply: '`ok` as soon as it is received.',
  },
  reboot: {
    action:
      'Reply first and wait for the PUBACK of the reply (at most 5 s). Then publish `{"state":"offline"}` retained on `status`, send DISCONNECT, and restart. After the restart, birth carries `bootReason: "command"` and a `reboot` event with `reason: "command"` is sent.',
    reply: '`ok` before rebooting; `failed` (e.g. `busy`) if the device refuses to reboot now.',
  },
  setVolume: {
    action:
      'Set the master output volume (0 = silent, 100 = maximum) and keep it across reboots. The next telemetry report shows it in `volume`.',
    reply: '`ok` once applied; `failed` if the amplifier did not accept it.',
  },
  setOutput: {
    action:
      'Enable (`true`) or disable (`false`) one amplifier output (horn) and keep the setting across reboots. A disabled output reports state `off` in telemetry. An `index` the device does not have is a bad argument.',
    reply: '`ok` once switched; `rejected` / `bad_args` for an index the device does not have; `failed` on a hardware error.',
  },
  identify: {
    action:
      'Make the cluster easy to find for a technician on site for `seconds` (default 10 s when omitted): blink the status LED and, if the device has one, sound a short local tone. MUST NOT play anything through the horns.',
    reply: '`ok` when identification starts.',
  },
};

/** Keys of FAULT_PROBES: the server fault an event corresponds to. */
type FaultKey = 'mains' | 'relay' | 'overheat' | 'battery' | 'output';

const EVENT_GUIDE: Record<EventType, { when: string; include: string; fault?: { key: FaultKey; clears?: boolean } }> = {
  mains_lost: {
    when: 'Mains (AC) supply disappears or falls below the device\'s brown-out threshold, and the device switches to its backup.',
    include: '`voltageV`: the last measured mains voltage (0 if none).',
    fault: { key: 'mains' },
  },
  mains_restored: {
    when: 'Mains supply is back and has been stable for a few seconds.',
    include: '`voltageV`: the measured mains voltage.',
    fault: { key: 'mains', clears: true },
  },
  relay_tripped: {
    when: 'The over/under-voltage protection relay opens.',
    include: '`voltageV`: the mains voltage that tripped it.',
    fault: { key: 'relay' },
  },
  relay_reset: {
    when: 'The protection relay closes again.',
    include: '`voltageV` (optional).',
    fault: { key: 'relay', clears: true },
  },
  output_fault: {
    when: 'An output leaves state `ok` for `open`, `short` or `overload` (a broken cable, a shorted horn, an overloaded channel).',
    include: '`output`: `{ "index", "state" }` with the new state.',
    fault: { key: 'output' },
  },
  output_restored: {
    when: 'A faulty output is back to `ok`.',
    include: '`output`: `{ "index", "state": "ok" }`.',
    fault: { key: 'output', clears: true },
  },
  overheat: {
    when: `The amplifier temperature reaches ${OVERHEAT_C} °C (the server's threshold; use the same one).`,
    include: '`temperatureC`.',
    fault: { key: 'overheat' },
  },
  overheat_cleared: {
    when: `The amplifier temperature falls back below the threshold minus a hysteresis (e.g. ${OVERHEAT_C - 5} °C).`,
    include: '`temperatureC`.',
    fault: { key: 'overheat', clears: true },
  },
  battery_low: {
    when: `While running on backup, the battery charge falls below ${BATTERY_LOW_PCT} % (the server's threshold). Once per discharge.`,
    include: '`batteryPct`.',
    fault: { key: 'battery' },
  },
  reboot: {
    when: 'Once after every start of the firmware, queued like any event and published after the first successful connect.',
    include: '`reason`: why the device restarted (same value as `bootReason` in birth). `ts` = the time the device started.',
  },
};

/** See-also links under each topic in the reference, by section heading text (resolved to anchors when rendered). */
const SEE_ALSO: Record<TopicSpec['channel'], string[]> = {
  status: ['2. Connection', '4. Device lifecycle'],
  birth: ['4. Device lifecycle'],
  config: ['4. Device lifecycle', '3. Limits'],
  telemetry: ['8. Events and faults', '6. Time synchronisation'],
  event: ['8. Events and faults', '3. Limits'],
  cmd: ['7. Commands', '6. Time synchronisation'],
  'group-cmd': ['7. Commands', '3. Limits'],
  reply: ['7. Commands'],
  'time/req': ['6. Time synchronisation'],
  'time/res': ['6. Time synchronisation'],
  manifest: ['9. Content fetch over HTTP', '6. Time synchronisation'],
  'manifest/req': ['10.1 The manifest'],
  'group-play': ['10.2 Group play orders', '3. Limits'],
  airing: ['10.7 Airing reports', '3. Limits'],
};

/**
 * What a field means, where the schema itself does not say enough for a firmware engineer (units, which clock, when).
 * Keyed by schema `$id` and field path; appended to the schema's own description. render() fails on a key that names
 * no field, so a renamed field cannot leave a stale note behind.
 */
const FIELD_NOTES: Record<string, string> = {
  'Status:state': '`online` after connecting; `offline` as the will and before a planned disconnect',
  'Status:ts': 'device clock when published',
  'Birth:firmware': 'firmware version of the receiver box, e.g. `2.4.1`',
  'Birth:hardware': 'hardware model and revision of the receiver box',
  'Birth:model': 'product model of the cluster',
  'Birth:serial': 'serial number, as registered on the server',
  'Birth:outputs': 'every amplifier output the device has, enabled or not',
  'Birth:outputs[].label': 'installer\'s name for the output, e.g. the direction its horn faces',
  'Birth:outputs[].ratedW': 'rated power, watts',
  'Birth:bootAt': 'device clock when the firmware started',
  'Birth:bootReason': 'why the firmware last started',
  'DeviceConfig:version':
    'compare for inequality only, never for order; values are large (currently seconds since the epoch, about 1.8 × 10⁹), so store at least an unsigned 32-bit integer',
  'DeviceConfig:telemetryIntervalS': 'seconds between telemetry reports',
  'DeviceConfig:timeSyncIntervalS': 'seconds between time-sync bursts',
  'DeviceConfig:emergencyVolume': 'volume for emergency broadcasts, overriding `volume`; store it (no v1 command starts emergency playback)',
  'Telemetry:ts': 'device clock when the report was taken',
  'Telemetry:mains.present': 'mains (AC) supply is present',
  'Telemetry:mains.voltageV': 'mains voltage, volts; `null` if the device cannot measure it',
  'Telemetry:backup.batteryV': 'battery voltage, volts',
  'Telemetry:backup.batteryPct': 'battery state of charge, percent',
  'Telemetry:amp.temperatureC': 'amplifier temperature, °C',
  'Telemetry:outputs': 'every output the device has, including disabled ones',
  'Telemetry:outputs[].index': 'amplifier channel, 0-based, as in birth',
  'Telemetry:outputs[].state': '`open` circuit (cable cut, horn missing), `short` circuit, `overload`, or `off` = disabled by `setOutput`',
  'Telemetry:volume': 'master volume, 0 = silent',
  'Telemetry:playing': 'what is on air now; `null` when silent',
  'Telemetry:network.type': 'bearer in use',
  'Telemetry:network.rssiDbm': 'received signal strength, dBm',
  'Telemetry:storageFreeMb': 'free storage for audio content, megabytes',
  'Telemetry:uptimeS': 'seconds since the firmware started',
  'DeviceEvent:ts': 'device clock when the change happened',
  'DeviceEvent:type': 'see §8.1',
  'DeviceEvent:output': 'the output concerned (`output_fault`, `output_restored`)',
  'DeviceEvent:output.state': 'the output\'s new state',
  'DeviceEvent:voltageV': 'mains voltage, volts (`mains_*`, `relay_*`)',
  'DeviceEvent:temperatureC': 'amplifier temperature, °C (`overheat*`)',
  'DeviceEvent:batteryPct': 'battery state of charge, percent (`battery_low`)',
  'DeviceEvent:reason': 'why the device restarted (`reboot`)',
  'Command:id': 'unique per command; the key for deduplication and for the reply',
  'Command:issuedAt': 'server clock when the command was issued',
  'Command:expiresAt': 'server clock after which the command MUST NOT be executed',
  'Command:args': 'the command\'s arguments, see §7.2; absent = `{}`',
  'CommandReply:result': 'see §7.3',
  'CommandReply:ts': 'device clock when the command finished',
  'CommandReply:data': 'command-specific results',
  'TimeRequest:id': 'new for every request',
  'TimeResponse:id': 'the `id` of the request answered',
  'TimeResponse:t0': 'the request\'s `t0`, echoed',
};

// ---------------------------------------------------------------------------------------------------------------
// Markdown helpers
// ---------------------------------------------------------------------------------------------------------------

type Json = { [k: string]: any };

/** Table cell text: pipes escaped, no line breaks. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string | number): string => '`' + String(s) + '`';
const codeList = (xs: readonly (string | number)[]): string => xs.map(code).join(', ');

function table(head: string[], rows: string[][]): string {
  const line = (r: string[]) => '| ' + r.map(cell).join(' | ') + ' |';
  return [line(head), '| ' + head.map(() => '---').join(' | ') + ' |', ...rows.map(line)].join('\n');
}

/** 65536 → "65,536"; small numbers unchanged. Independent of the machine's locale. */
function num(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = int.length > 4 ? int.replace(/\B(?=(\d{3})+$)/g, ',') : int;
  return frac ? `${grouped}.${frac}` : grouped;
}

/** A fixed-point number without trailing zeros: 1999.80000001 → "1999.8". */
const dec = (n: number, digits = 1): string => String(Number(n.toFixed(digits)));

/** GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** The plain JSON Schema a vendor sees (TypeBox's symbol-keyed metadata dropped). */
const jsonSchema = (s: TSchema): Json => JSON.parse(JSON.stringify(s));

// ---------------------------------------------------------------------------------------------------------------
// Schema → field table
// ---------------------------------------------------------------------------------------------------------------

export interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  constraints: string;
  description: string;
}

/** `0 – 100`, `≥ 0`, `< 5` … from the numeric bounds of a schema. */
function range(s: Json): string | null {
  const lo = s.minimum ?? s.exclusiveMinimum;
  const hi = s.maximum ?? s.exclusiveMaximum;
  const loOp = s.exclusiveMinimum !== undefined ? '>' : '≥';
  const hiOp = s.exclusiveMaximum !== undefined ? '<' : '≤';
  if (lo !== undefined && hi !== undefined && loOp === '≥' && hiOp === '≤') return `${num(lo)} – ${num(hi)}`;
  const parts = [lo !== undefined ? `${loOp} ${num(lo)}` : null, hi !== undefined ? `${hiOp} ${num(hi)}` : null].filter(Boolean);
  return parts.length ? parts.join(', ') : null;
}

/** `length 1–64` for strings, `1–8 items` for arrays. */
function lengthOf(s: Json, what: 'Length' | 'Items'): string | null {
  const lo: number | undefined = s[`min${what}`];
  const hi: number | undefined = s[`max${what}`];
  const bounds = lo !== undefined && hi !== undefined ? `${lo}–${hi}` : lo !== undefined ? `≥ ${lo}` : hi !== undefined ? `≤ ${hi}` : null;
  if (!bounds) return null;
  return what === 'Length' ? `length ${bounds}` : `${bounds} items`;
}

const isEnum = (xs: Json[]): boolean => xs.length > 0 && xs.every((x) => x.const !== undefined);

interface Described {
  type: string;
  constraints: string[];
  description?: string;
  /** an object whose fields get their own rows, below this one */
  object?: Json;
  /** how child paths continue: '.' for objects, '[].' for arrays of objects */
  join?: string;
}

function describe(s: Json): Described {
  if (s.anyOf) {
    const options: Json[] = s.anyOf;
    const nonNull = options.filter((o) => o.type !== 'null');
    const nullable = nonNull.length !== options.length;
    const orNull = nullable ? ' or null' : '';
    if (isEnum(nonNull)) {
      const kinds = [...new Set(nonNull.map((o) => o.type ?? typeof o.const))];
      return { type: `${kinds.join(' or ')} (enum)${orNull}`, constraints: ['one of ' + codeList(nonNull.map((o) => o.const))], description: s.description };
    }
    if (nonNull.length === 1) {
      const inner = describe(nonNull[0]);
      return { ...inner, type: inner.type + orNull, description: s.description ?? inner.description };
    }
    return { type: nonNull.map((o) => describe(o).type).join(' or ') + orNull, constraints: [], description: s.description };
  }
  if (s.const !== undefined) return { type: typeof s.const, constraints: ['always ' + code(JSON.stringify(s.const))], description: s.description };
  switch (s.type) {
    case 'object':
      if (s.properties) return { type: 'object', constraints: [], description: s.description, object: s, join: '.' };
      if (s.patternProperties) return { type: 'object', constraints: ['any keys, any JSON values'], description: s.description };
      return { type: 'object', constraints: [], description: s.description };
    case 'array': {
      const items = describe(s.items ?? {});
      const constraints = [lengthOf(s, 'Items')].filter((x): x is string => !!x);
      if (!items.object && items.constraints.length) constraints.push('each: ' + items.constraints.join(', '));
      const description = [s.description, items.object ? null : items.description].filter(Boolean).join('; ') || undefined;
      return { type: `array of ${items.type}`, constraints, description, object: items.object, join: '[].' };
    }
    case 'string': {
      const c = [lengthOf(s, 'Length'), s.pattern ? 'pattern ' + code(s.pattern) : null, s.format ? 'format ' + s.format : null];
      return { type: 'string', constraints: c.filter((x): x is string => !!x), description: s.description };
    }
    case 'integer':
    case 'number':
      return { type: s.type, constraints: [range(s)].filter((x): x is string => !!x), description: s.description };
    case 'boolean':
    case 'null':
      return { type: s.type, constraints: [], description: s.description };
    case undefined:
      return { type: 'any JSON value', constraints: [], description: s.description };
    default:
      throw new Error(`field table: unsupported schema type ${JSON.stringify(s.type)}`);
  }
}

/** One row per field, depth first, paths like `mains.voltageV` and `outputs[].index`. */
export function fieldRows(schema: TSchema | Json, prefix = ''): FieldRow[] {
  const s = jsonSchema(schema as TSchema);
  const rows: FieldRow[] = [];
  const required = new Set<string>(s.required ?? []);
  for (const [name, sub] of Object.entries<Json>(s.properties ?? {})) {
    const d = describe(sub);
    const path = prefix + name;
    rows.push({ path, type: d.type, required: required.has(name), constraints: d.constraints.join('; '), description: d.description ?? '' });
    if (d.object) rows.push(...fieldRows(d.object, path + d.join));
  }
  return rows;
}

/**
 * The alternatives of a payload: one for a plain object schema, one per member for a union of objects
 * (`Type.Union([Type.Object(…), …])`), each labelled by its discriminator — the property every member fixes to a
 * constant — when there is one.
 */
export function payloadVariants(schema: TSchema | Json): { label: string | null; schema: Json }[] {
  const s = jsonSchema(schema as TSchema);
  if (!s.anyOf) return [{ label: null, schema: s }];
  const members: Json[] = s.anyOf;
  if (!members.every((m) => m.type === 'object' && m.properties)) throw new Error(`field table: union ${s.$id ?? ''} has a member that is not an object`);
  const discriminator = Object.keys(members[0].properties).find((k) =>
    members.every((m) => m.properties[k]?.const !== undefined && (m.required ?? []).includes(k)),
  );
  return members.map((m, i) => ({
    label: discriminator ? `${code(discriminator)} = ${code(JSON.stringify(m.properties[discriminator].const))}` : `variant ${i + 1}`,
    schema: m,
  }));
}

/** Every field path of a payload, over all its variants. */
function allFieldRows(schema: TSchema | Json): FieldRow[] {
  return payloadVariants(schema).flatMap((v) => fieldRows(v.schema));
}

/** The field table of a payload (one per variant for a union), with FIELD_NOTES merged into the descriptions. */
function fieldTable(schema: TSchema | Json): string {
  const id: string | undefined = jsonSchema(schema as TSchema).$id;
  const variants = payloadVariants(schema);
  const describeRow = (r: FieldRow) => [r.description, id ? FIELD_NOTES[`${id}:${r.path}`] : undefined].filter(Boolean).join('; ');
  const one = (s: Json): string => {
    const rows = fieldRows(s);
    if (!rows.length) return '_No fields: the payload is the empty object `{}`._';
    return table(
      ['Field', 'Type', 'Required', 'Constraints', 'Description'],
      rows.map((r) => [code(r.path), r.type, r.required ? 'yes' : 'no', r.constraints, describeRow(r)]),
    );
  };
  if (variants.length === 1 && variants[0].label === null) return one(variants[0].schema);
  return [
    `One of ${variants.length} forms:`,
    ...variants.map((v) => `_Form ${v.label}:_\n\n${one(v.schema)}`),
  ].join('\n\n');
}

/** Every FIELD_NOTES key must name a field of a catalog schema. */
function checkFieldNotes(): void {
  const known = new Set<string>();
  for (const t of CATALOG) {
    const id = jsonSchema(t.schema).$id;
    for (const r of allFieldRows(t.schema)) known.add(`${id}:${r.path}`);
  }
  for (const key of Object.keys(FIELD_NOTES)) if (!known.has(key)) throw new Error(`FIELD_NOTES: "${key}" names no field of a catalog payload`);
}

/** Fields typed `number` (not `integer`) in the catalog payloads, by topic channel: the only ones that may carry a fraction. */
function fractionalFields(): string {
  const byChannel = new Map<string, Set<string>>();
  for (const t of CATALOG) {
    for (const r of allFieldRows(t.schema)) {
      if (!/^number\b/.test(r.type)) continue;
      if (!byChannel.has(t.channel)) byChannel.set(t.channel, new Set());
      byChannel.get(t.channel)!.add(r.path);
    }
  }
  return [...byChannel].map(([channel, paths]) => `${channel} ${codeList([...paths])}`).join('; ');
}

/** `volume` (integer, 0 – 100) — a one-line summary of a small object schema, for table cells. */
function argsSummary(schema: TSchema): string {
  const rows = fieldRows(schema);
  if (!rows.length) return 'none';
  return rows
    .map((r) => `${code(r.path)} ${r.type}${r.constraints ? ', ' + r.constraints : ''}${r.required ? '' : ' (optional)'}`)
    .join('; ');
}

// ---------------------------------------------------------------------------------------------------------------
// Values and blocks
// ---------------------------------------------------------------------------------------------------------------

const defaults = loadConfig({});
const def = <K extends keyof typeof ConfigSchema.properties>(k: K): number => Number(ConfigSchema.properties[k].default);

const concreteTopic = (pattern: string): string =>
  pattern.replace('{clusterId}', EXAMPLE_CLUSTER_ID).replace('{groupId}', exampleGroupId());

function exampleGroupId(): string {
  const config = CATALOG.find((c) => c.channel === 'config')?.example as { groups?: string[] } | undefined;
  const g = config?.groups?.[0];
  if (!g) throw new Error('catalog: the config example must list at least one group');
  return g;
}

const constsOf = (s: TSchema): string[] => (jsonSchema(s).anyOf as Json[]).map((o) => String(o.const));

function values(): Record<string, string> {
  const rate = defaults.LOA_MQTT_PUBLISH_RATE;
  const secret = newDeviceSecret();
  const groupsSchema = jsonSchema(DeviceConfigSchema).properties.groups;
  // server/src/mqtt/packet-guard.ts cuts a packet when remaining length + fixedHeaderAllowance > max; the fixed header
  // actually sent is 1 type byte + the remaining-length varint (7 bits per byte), so the largest accepted packet is
  // smaller than the configured maximum by the unused allowance.
  const maxRemaining = defaults.LOA_MQTT_MAX_PACKET_BYTES - BROKER.fixedHeaderAllowance;
  const lengthBytes = maxRemaining < 128 ? 1 : maxRemaining < 16_384 ? 2 : maxRemaining < 2_097_152 ? 3 : 4;
  return {
    TOPIC_ROOT,
    PROTOCOL_VERSION: String(PROTOCOL_VERSION),
    STREAM_EPOCH_HEADER,
    STREAM_EPOCH_TAG,
    NEXT_TOPIC_ROOT: `loa/v${PROTOCOL_VERSION + 1}`,
    ID_PATTERN: IdSchema.pattern as string,
    UP_CHANNELS: codeList(DEVICE_UP),
    DOWN_CHANNELS: codeList(DEVICE_DOWN),
    EXAMPLE_CLUSTER_ID,
    EXAMPLE_GROUP_ID: exampleGroupId(),
    MQTT_PORT: String(def('LOA_MQTT_PORT')),
    MQTTS_PORT: String(def('LOA_MQTT_TLS_PORT')),
    HTTP_PORT: String(def('LOA_HTTP_PORT')),
    MAX_PACKET_BYTES: num(defaults.LOA_MQTT_MAX_PACKET_BYTES),
    MAX_REMAINING_LENGTH: num(maxRemaining),
    MAX_LENGTH_BYTES: String(lengthBytes),
    MAX_WHOLE_PACKET: num(1 + lengthBytes + maxRemaining),
    FIRST_CLOSED_PACKET: num(1 + lengthBytes + maxRemaining + 1),
    FRACTIONAL_FIELDS: fractionalFields(),
    PUBLISH_RATE: num(rate),
    BURST: num(rate * BROKER.burstSeconds),
    BURST_SECONDS: String(BROKER.burstSeconds),
    MAX_THROTTLE_S: String(BROKER.maxThrottleS),
    MAX_SUBSCRIPTIONS: String(defaults.LOA_MQTT_MAX_SUBSCRIPTIONS),
    MAX_GROUPS: String(groupsSchema.maxItems),
    OWN_SUBSCRIPTIONS: String(DEVICE_DOWN.length),
    TELEMETRY_INTERVAL_S: String(defaults.LOA_TELEMETRY_INTERVAL_S),
    TIME_SYNC_INTERVAL_S: String(defaults.LOA_TIME_SYNC_INTERVAL_S),
    HEARTBEAT_TIMEOUT_S: dec(heartbeatTimeoutMs(defaults) / 1000),
    HEARTBEAT_FACTOR: dec(heartbeatTimeoutMs(defaults) / 1000 / defaults.LOA_TELEMETRY_INTERVAL_S),
    EMERGENCY_VOLUME: String(defaults.LOA_EMERGENCY_VOLUME),
    OVERHEAT_C: String(OVERHEAT_C),
    BATTERY_LOW_PCT: String(BATTERY_LOW_PCT),
    SECRET_BITS: String(secret.length * 6),
    SECRET_CHARS: String(secret.length),
    CONNECT_TIMEOUT_S: String(BROKER.connectTimeoutS),
    PRE_CONNACK_QUEUE: String(BROKER.preConnackQueue),
    MAX_CLIENT_ID_LENGTH: String(BROKER.maxClientIdLength),
    MAX_TOPIC_LEVELS: String(BROKER.maxTopicLevels),
    KEEPALIVE_GRACE: String(BROKER.keepaliveGrace),
    REBOOT_REASONS: codeList(constsOf(RebootReasonSchema)),
    OUTPUT_STATES: codeList(OUTPUT_STATES),
    NETWORK_TYPES: codeList(NETWORK_TYPES),
    COMMAND_NAMES: codeList(COMMAND_NAMES),
    COMMAND_RESULTS: codeList(COMMAND_RESULTS),
    EVENT_TYPES: codeList(EVENT_TYPES),
  };
}

/** Topic headings are numbered under the section that holds the topic reference ("5.1 Presence" …). */
const topicHeading = (section: string, t: TopicSpec, i: number) => `${section}.${i + 1} ${t.title}`;

function topicIndex(section: string): string {
  return table(
    ['Topic', 'Direction', 'QoS', 'Retain', 'Section'],
    CATALOG.map((t, i) => [code(t.topic), t.direction, String(t.qos), t.retain ? 'yes' : 'no', `[${topicHeading(section, t, i)}](#${slug(topicHeading(section, t, i))})`]),
  );
}

function topicReference(section: string, anchorOf: (heading: string) => string): string {
  return CATALOG.map((t, i) => {
    const check = payloadCodec(t.schema).decode(JSON.stringify(t.example));
    if (!check.ok) throw new Error(`catalog: the example for ${t.topic} fails its own schema: ${check.error}`);
    const doing = t.direction === 'device → server' ? 'The device publishes.' : 'The device subscribes; the server publishes.';
    const links = SEE_ALSO[t.channel].map((h) => `[${h}](#${anchorOf(h)})`);
    return [
      `### ${topicHeading(section, t, i)}`,
      '',
      table(['Topic', 'Direction', 'QoS', 'Retain'], [[code(t.topic), t.direction, String(t.qos), t.retain ? 'yes' : 'no']]),
      '',
      `${doing} Example topic: ${code(concreteTopic(t.topic))}`,
      '',
      '**Required behaviour**',
      '',
      ...t.behaviour.map((b) => `- ${b}`),
      '',
      '**Payload**',
      '',
      fieldTable(t.schema),
      '',
      '**Example**',
      '',
      '```json',
      JSON.stringify(t.example, null, 2),
      '```',
      '',
      '<details>',
      `<summary>JSON Schema (${jsonSchema(t.schema).$id ?? t.title})</summary>`,
      '',
      '```json',
      JSON.stringify(jsonSchema(t.schema), null, 2),
      '```',
      '',
      '</details>',
      ...(links.length ? ['', `See also: ${links.join(', ')}.`] : []),
    ].join('\n');
  }).join('\n\n');
}

function commandsTable(): string {
  return table(
    ['Command', 'Arguments (`args`)', 'Expected device action', 'Reply'],
    COMMAND_NAMES.map((n) => [code(n), argsSummary(CommandArgsSchemas[n]), COMMAND_GUIDE[n].action, COMMAND_GUIDE[n].reply]),
  );
}

function commandArgSchemas(): string {
  const schemas = Object.fromEntries(COMMAND_NAMES.map((n) => [n, jsonSchema(CommandArgsSchemas[n])]));
  return ['<details>', '<summary>JSON Schemas of the command arguments</summary>', '', '```json', JSON.stringify(schemas, null, 2), '```', '', '</details>'].join('\n');
}

/** Telemetry in which the server sees no fault: the catalog example with every output `ok`. */
function healthyTelemetry(): Telemetry {
  const t = structuredClone(CATALOG.find((c) => c.channel === 'telemetry')!.example) as Telemetry;
  t.outputs = t.outputs.map((o) => ({ ...o, state: 'ok' }));
  t.mains.present = true;
  t.relayTripped = false;
  t.amp.temperatureC = 30;
  t.backup.active = false;
  return t;
}

interface FaultProbe {
  key: FaultKey;
  condition: string;
  /** must yield exactly one fault */
  raise: (t: Telemetry) => void;
  /** must yield none: the edges of the condition */
  quiet: ((t: Telemetry) => void)[];
}

const FAULT_PROBES: FaultProbe[] = [
  { key: 'mains', condition: '`mains.present` is `false`', raise: (t) => (t.mains.present = false), quiet: [] },
  { key: 'relay', condition: '`relayTripped` is `true`', raise: (t) => (t.relayTripped = true), quiet: [] },
  {
    key: 'overheat',
    condition: `\`amp.temperatureC\` ≥ ${OVERHEAT_C}`,
    raise: (t) => (t.amp.temperatureC = OVERHEAT_C),
    quiet: [(t) => (t.amp.temperatureC = OVERHEAT_C - 0.1)],
  },
  {
    key: 'battery',
    condition: `\`backup.active\` is \`true\` and \`backup.batteryPct\` < ${BATTERY_LOW_PCT}`,
    raise: (t) => Object.assign(t.backup, { active: true, batteryPct: BATTERY_LOW_PCT - 0.1 }),
    quiet: [(t) => Object.assign(t.backup, { active: true, batteryPct: BATTERY_LOW_PCT }), (t) => Object.assign(t.backup, { active: false, batteryPct: 0 })],
  },
];

/** Runs faultsOf on probe telemetry, so the fault strings and thresholds in the doc are the server's own. */
function probeFaults(): { key: FaultKey; condition: string; fault: string }[] {
  const run = (mutate: (t: Telemetry) => void) => {
    const t = healthyTelemetry();
    mutate(t);
    return faultsOf(t);
  };
  if (run(() => {}).length) throw new Error('faults: the healthy probe telemetry already has faults');
  const out: { key: FaultKey; condition: string; fault: string }[] = [];
  for (const p of FAULT_PROBES) {
    const raised = run(p.raise);
    if (raised.length !== 1) throw new Error(`faults: probe ${p.key} raised ${JSON.stringify(raised)}; update FAULT_PROBES`);
    for (const q of p.quiet) if (run(q).length) throw new Error(`faults: the threshold of ${p.key} moved; update FAULT_PROBES`);
    out.push({ key: p.key, condition: p.condition, fault: raised[0] });
  }
  const index = 3;
  for (const state of OUTPUT_STATES) {
    const raised = run((t) => (t.outputs = [{ index, state }]));
    if (raised.length > 1) throw new Error(`faults: output state ${state} raised ${JSON.stringify(raised)}`);
    if (raised.length === 1) {
      out.push({ key: 'output', condition: `an entry of \`outputs\` has state \`${state}\``, fault: raised[0].replace(`-${index}-`, '-{index}-') });
    }
  }
  return out;
}

function quietOutputStates(): string[] {
  return OUTPUT_STATES.filter((state) => {
    const t = healthyTelemetry();
    t.outputs = [{ index: 0, state }];
    return faultsOf(t).length === 0;
  });
}

function faultsTable(): string {
  const rows = probeFaults().map((f) => [code(f.fault), f.condition]);
  return table(['Fault', 'Raised while the latest telemetry report has'], rows) +
    `\n\nOutput states ${codeList(quietOutputStates())} are not faults.`;
}

function eventsTable(): string {
  const faults = probeFaults();
  const faultName = (key: FaultKey) => [...new Set(faults.filter((f) => f.key === key).map((f) => code(f.fault)))].join(', ');
  return table(
    ['Type', 'Send when', 'Include', 'Matching server fault'],
    EVENT_TYPES.map((e) => {
      const g = EVENT_GUIDE[e];
      const fault = g.fault ? (g.fault.clears ? 'clears ' : '') + faultName(g.fault.key) : '—';
      return [code(e), g.when, g.include, fault];
    }),
  );
}

function timeSyncExample(): string {
  const res = CATALOG.find((c) => c.channel === 'time/res')!.example as { t0: number; t1: number; t2: number };
  const t3 = res.t0 + 123;
  const { offsetMs, rttMs } = clockOffset(res.t0, res.t1, res.t2, t3);
  const cmd = CATALOG.find((c) => c.channel === 'cmd')!.example as { expiresAt: number };
  return [
    table(
      ['Stamp', 'Taken by', 'Value (ms since epoch)'],
      [
        ['`t0`', 'device, at send', String(res.t0)],
        ['`t1`', 'server, at receipt', dec(res.t1)],
        ['`t2`', 'server, at send', dec(res.t2)],
        ['`t3`', 'device, at receipt', String(t3)],
      ],
    ),
    '',
    '```text',
    `offset = ((t1 − t0) + (t2 − t3)) / 2 = (${dec(res.t1 - res.t0)} + ${dec(res.t2 - t3)}) / 2 = ${dec(offsetMs)} ms`,
    `rtt    = (t3 − t0) − (t2 − t1)       = ${dec(t3 - res.t0)} − ${dec(res.t2 - res.t1)} = ${dec(rttMs)} ms`,
    '```',
    '',
    `The device clock is ${dec(offsetMs)} ms behind the server, known to within ±${dec(rttMs / 2)} ms (half the round trip). ` +
      `A command with \`expiresAt\` = ${cmd.expiresAt} (server time) therefore expires when the device clock passes ` +
      `${cmd.expiresAt} − ${dec(offsetMs)} = ${dec(cmd.expiresAt - offsetMs)}, and the device reports ` +
      `\`clockOffsetMs: ${dec(offsetMs)}\` in telemetry.`,
  ].join('\n');
}

function fleetFileTable(): string {
  return fieldTable(FleetFileSchema);
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------------

interface Heading {
  level: number;
  text: string;
  anchor: string;
}

/** `##`/`###` headings outside code fences, with GitHub's anchors (duplicates get -1, -2 …). */
function headingsOf(markdown: string): Heading[] {
  const out: Heading[] = [];
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^(#{1,6}) (.+)$/.exec(line);
    if (!m) continue;
    const base = slug(m[2]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ level: m[1].length, text: m[2], anchor: n ? `${base}-${n}` : base });
  }
  return out;
}

function toc(markdown: string): string {
  return headingsOf(markdown)
    .filter((h) => (h.level === 2 || h.level === 3) && h.text !== 'Contents')
    .map((h) => `${h.level === 3 ? '   ' : ''}- [${h.text.replace(/`/g, '')}](#${h.anchor})`)
    .join('\n');
}

const GENERATED_NOTICE =
  '<!-- GENERATED FILE — do not edit. Source: docs/device-protocol.template.md and schemas/device-protocol/. Regenerate with: npm run docs:protocol -->';

/** The whole document. Pure apart from reading the template: same inputs, same bytes. */
export function renderProtocolDoc(template: string = readFileSync(TEMPLATE_PATH, 'utf8')): string {
  // Runtime twins of the compile-time Record checks (a stale `as any` must not slip through).
  for (const n of COMMAND_NAMES) if (!COMMAND_GUIDE[n]) throw new Error(`no COMMAND_GUIDE entry for command ${n}`);
  for (const e of EVENT_TYPES) if (!EVENT_GUIDE[e]) throw new Error(`no EVENT_GUIDE entry for event ${e}`);
  checkFieldNotes();

  // The template's own leading comment (notes for editors) is not part of the output.
  let md = template.replace(/\r\n/g, '\n').replace(/^<!--[\s\S]*?-->\n+/, '');

  const vals = values();
  md = md.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_, k: string) => {
    if (!(k in vals)) throw new Error(`template: unknown value {{${k}}}`);
    return vals[k];
  });

  // The topic reference numbers its headings under the section that holds it.
  const at = md.indexOf('<!-- @generate topic-reference -->');
  if (at < 0) throw new Error('template: the topic reference block is missing');
  const holder = [...md.slice(0, at).matchAll(/^## (\d+)\./gm)].pop();
  if (!holder) throw new Error('template: the topic reference must sit under a numbered "## N." section');
  const section = holder[1];

  const blocks: Record<string, () => string> = {
    'topic-index': () => topicIndex(section),
    'topic-reference': () => '\u0000TOPIC_REFERENCE\u0000',
    'commands-table': commandsTable,
    'command-arg-schemas': commandArgSchemas,
    'events-table': eventsTable,
    'faults-table': faultsTable,
    'time-sync-example': timeSyncExample,
    'fleet-file-table': fleetFileTable,
    toc: () => '\u0000TOC\u0000',
  };
  md = md.replace(/<!-- @generate ([a-z-]+) -->/g, (_, name: string) => {
    const block = blocks[name];
    if (!block) throw new Error(`template: unknown block <!-- @generate ${name} -->`);
    return block();
  });

  // The topic reference links to prose sections by heading text; resolve against the prose's headings.
  const prose = headingsOf(md);
  const anchorOf = (text: string) => {
    const h = prose.find((x) => x.text === text);
    if (!h) throw new Error(`see-also: no heading "${text}" in the template`);
    return h.anchor;
  };
  md = md.replace('\u0000TOPIC_REFERENCE\u0000', () => topicReference(section, anchorOf));

  // Prose links to a topic by channel: (#topic:config) → (#53-configuration).
  md = md.replace(/\(#topic:([a-z/-]+)\)/g, (_, channel: string) => {
    const i = CATALOG.findIndex((t) => t.channel === channel);
    if (i < 0) throw new Error(`template: link to unknown topic channel "${channel}"`);
    return `(#${slug(topicHeading(section, CATALOG[i], i))})`;
  });
  md = md.replace('\u0000TOC\u0000', () => toc(md));

  // Every in-document link must land on a heading.
  const anchors = new Set(headingsOf(md).map((h) => h.anchor));
  for (const m of md.matchAll(/\]\(#([^)]+)\)/g)) {
    if (!anchors.has(m[1])) throw new Error(`broken in-document link #${m[1]}`);
  }

  return GENERATED_NOTICE + '\n\n' + md.replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/** Where two texts first differ, for a readable --check message and test failure. */
export function firstDifference(expected: string, actual: string): { line: number; expected: string; actual: string } | null {
  if (expected === actual) return null;
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { line: i + 1, expected: a[i] ?? '<end of file>', actual: b[i] ?? '<end of file>' };
  }
  return { line: a.length, expected: '', actual: '' };
}

function main(argv: string[]): number {
  const rendered = renderProtocolDoc();
  if (argv.includes('--check')) {
    const committed = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, 'utf8') : '';
    const diff = firstDifference(rendered, committed);
    if (!diff) {
      console.log('docs/device-protocol.md is up to date.');
      return 0;
    }
    console.error(
      `docs/device-protocol.md differs from what the generator produces (first difference at line ${diff.line}):\n` +
        `  generated: ${diff.expected}\n` +
        `  committed: ${diff.actual}\n` +
        'Regenerate it with `npm run docs:protocol` and commit the result (see `git diff docs/device-protocol.md`).',
    );
    return 1;
  }
  writeFileSync(DOC_PATH, rendered);
  console.log(`wrote ${DOC_PATH} (${rendered.split('\n').length} lines)`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
