/**
 * Every topic of device protocol v1 with its contract. `docs/device-protocol.md` is generated from this table
 * (npm run docs:protocol) and a test fails when the committed doc and this table drift apart.
 */
import type { TSchema } from '@sinclair/typebox';
import { BirthSchema, StatusSchema } from './presence.ts';
import { TelemetrySchema } from './telemetry.ts';
import { DeviceEventSchema } from './events.ts';
import { CommandReplySchema, CommandSchema } from './commands.ts';
import { TimeRequestSchema, TimeResponseSchema } from './time-sync.ts';
import { DeviceConfigSchema } from './config.ts';
import { AiringReportSchema, GroupPlaySchema, ManifestRequestSchema, ManifestSchema } from './playback.ts';
import type { DeviceChannel } from './topics.ts';

export interface TopicSpec {
  channel: DeviceChannel | 'group-cmd' | 'group-play';
  title: string;
  topic: string;
  direction: 'device → server' | 'server → device';
  qos: 0 | 1;
  retain: boolean;
  schema: TSchema;
  example: unknown;
  behaviour: string[];
}

const T0 = 1_790_000_000_000;
const EXAMPLE_ITEM = {
  id: 'bc-7k2m9xq4ta',
  broadcastId: 'bc-7k2m9xq4ta',
  title: 'Thông báo lịch tiêm chủng',
  level: 'normal',
  content: { sha256: '9f2c1d0e7b6a5948372615049f8e7d6c5b4a39281706f5e4d3c2b1a098f7e6d5', size: 96_412, durationMs: 24_100 },
  startAt: T0 + 3_600_000,
  expiresAt: T0 + 3_600_000 + 1_800_000,
  volume: 80,
  outputs: null,
  repeat: { count: 2, intervalS: 600 },
  onPreempt: 'resume',
};

export const CATALOG: TopicSpec[] = [
  {
    channel: 'status',
    title: 'Presence',
    topic: 'loa/v1/dev/{clusterId}/status',
    direction: 'device → server',
    qos: 1,
    retain: true,
    schema: StatusSchema,
    example: { state: 'online', ts: T0 },
    behaviour: [
      'In the CONNECT packet, set the last will to this topic with payload `{"state":"offline"}`, QoS 1, retain true.',
      'Right after CONNACK, publish `{"state":"online"}` here with retain true, then the birth message.',
      'Before a planned disconnect (reboot, shutdown), publish `{"state":"offline"}` retained, then DISCONNECT.',
    ],
  },
  {
    channel: 'birth',
    title: 'Birth',
    topic: 'loa/v1/dev/{clusterId}/birth',
    direction: 'device → server',
    qos: 1,
    retain: false,
    schema: BirthSchema,
    example: {
      protocol: 1,
      firmware: '2.4.1',
      hardware: 'LX-RX4G rev C',
      model: 'LX-400',
      serial: 'LX4-2409-00017',
      outputs: [
        { index: 0, label: 'Hướng chợ', ratedW: 50 },
        { index: 1, label: 'Hướng trường', ratedW: 50 },
      ],
      bootAt: T0 - 3_600_000,
      bootReason: 'power_on',
    },
    behaviour: [
      'Publish once after every successful connect, after the online status, and send nothing else until its PUBACK arrives (MQTT clients do not keep QoS 0 publishes behind QoS 1 ones).',
      'The server answers with the device configuration on the `config` topic.',
    ],
  },
  {
    channel: 'config',
    title: 'Configuration',
    topic: 'loa/v1/dev/{clusterId}/config',
    direction: 'server → device',
    qos: 1,
    retain: true,
    schema: DeviceConfigSchema,
    example: { version: 3, telemetryIntervalS: 30, timeSyncIntervalS: 600, groups: ['a-dong-thanh', 'a-dt-ap-1'], emergencyVolume: 100 },
    behaviour: [
      'Subscribe (QoS 1) before publishing the birth message; the server re-sends the configuration after each birth.',
      'Apply a configuration whose `version` differs from the one held; report telemetry every `telemetryIntervalS` seconds.',
      'Subscribe to `loa/v1/grp/{group}/cmd` and `loa/v1/grp/{group}/play` for every group listed (both topics of a group together, in the configuration\'s order) and unsubscribe from groups no longer listed. Group subscriptions belong to the connection: after every connect, subscribe to the groups of the configuration received, even if its version is unchanged.',
      'Run a time sync every `timeSyncIntervalS` seconds and right after connecting.',
    ],
  },
  {
    channel: 'telemetry',
    title: 'Telemetry',
    topic: 'loa/v1/dev/{clusterId}/telemetry',
    direction: 'device → server',
    qos: 0,
    retain: false,
    schema: TelemetrySchema,
    example: {
      ts: T0,
      seq: 118,
      mains: { present: true, voltageV: 226.4 },
      backup: { active: false, batteryV: 13.1, batteryPct: 96 },
      relayTripped: false,
      amp: { temperatureC: 41.5 },
      outputs: [
        { index: 0, state: 'ok' },
        { index: 1, state: 'open' },
      ],
      volume: 80,
      playing: null,
      network: { type: '4g', rssiDbm: -79 },
      storageFreeMb: 3120,
      uptimeS: 3600,
      clockOffsetMs: -12.5,
    },
    behaviour: [
      'Publish every `telemetryIntervalS` seconds (from the configuration; 30 s until one arrives).',
      'The server treats a device from which nothing arrived for 2.5 intervals as offline, so telemetry doubles as heartbeat.',
      'Report every output the device has, including disabled ones (`off`).',
    ],
  },
  {
    channel: 'event',
    title: 'Events',
    topic: 'loa/v1/dev/{clusterId}/event',
    direction: 'device → server',
    qos: 1,
    retain: false,
    schema: DeviceEventSchema,
    example: { id: 'e-0007f3', ts: T0 + 5_000, type: 'mains_lost', voltageV: 0 },
    behaviour: [
      'Publish when the state changes between telemetry reports: mains lost/restored, relay tripped/reset, output fault/restored, overheating, low battery, and after a reboot (with its reason).',
      'Keep events while offline (at least the last 500) and publish them after reconnecting, oldest first, with their original `id` and `ts`, keeping at most 10 unacknowledged at a time (the broker throttles and then closes a connection that runs more than 100 publishes ahead of its 20/s allowance); the server drops duplicates by `id`.',
    ],
  },
  {
    channel: 'cmd',
    title: 'Commands',
    topic: 'loa/v1/dev/{clusterId}/cmd',
    direction: 'server → device',
    qos: 1,
    retain: false,
    schema: CommandSchema,
    example: { id: 'cmd-5f2a91', name: 'setVolume', issuedAt: T0, expiresAt: T0 + 60_000, args: { volume: 70 } },
    behaviour: [
      'Subscribe with QoS 1 after connecting.',
      'Convert `expiresAt` (server time) to device time with the measured clock offset; if it has passed, do not execute: reply `rejected` with reason `expired`.',
      'Execute a command id at most once; a repeated id gets the first reply again.',
      'A command received before the first time sync after boot completes is held until that sync ends, then judged.',
      'A command that fails its schema but carries a usable `id` is answered `rejected` with reason `malformed`.',
      'Reply on the `reply` topic for every command: `ok`, `rejected` (malformed, expired, unknown_command, bad_args) or `failed` with a reason.',
      'v1 commands: `ping`; `reboot` (reply ok, then go offline cleanly and reboot); `setVolume` {volume 0–100}; `setOutput` {index, enabled}; `identify` {seconds?}.',
    ],
  },
  {
    channel: 'group-cmd',
    title: 'Group commands',
    topic: 'loa/v1/grp/{groupId}/cmd',
    direction: 'server → device',
    qos: 1,
    retain: false,
    schema: CommandSchema,
    example: { id: 'cmd-77ab10', name: 'setVolume', issuedAt: T0, expiresAt: T0 + 60_000, args: { volume: 100 } },
    behaviour: [
      'Subscribe only to the groups named in the configuration; the broker refuses any other group.',
      'Handle exactly like a command on the device topic, and reply on the device\'s own `reply` topic with the same id.',
      'Group ids for areas are `a-{areaId}`, one for every area above and including the cluster\'s own (province … hamlet), plus custom groups; always take the list from the configuration.',
    ],
  },
  {
    channel: 'reply',
    title: 'Command replies',
    topic: 'loa/v1/dev/{clusterId}/reply',
    direction: 'device → server',
    qos: 1,
    retain: false,
    schema: CommandReplySchema,
    example: { id: 'cmd-5f2a91', result: 'ok', ts: T0 + 180 },
    behaviour: ['One reply per command id received, with the same id.'],
  },
  {
    channel: 'time/req',
    title: 'Time sync request',
    topic: 'loa/v1/dev/{clusterId}/time/req',
    direction: 'device → server',
    qos: 0,
    retain: false,
    schema: TimeRequestSchema,
    example: { id: 'ts-41', t0: T0 },
    behaviour: [
      'Send with `t0` = device clock at send. Subscribe to `time/res` first.',
      'Take several samples (e.g. 4) and keep the one with the smallest round trip; it carries the least asymmetry. Where programmes must start in step over a jittery link, a device MAY instead combine the smallest one-way legs of 16–48 samples: offset = (min(t1 − t0) + max(t2 − t3)) / 2.',
    ],
  },
  {
    channel: 'time/res',
    title: 'Time sync response',
    topic: 'loa/v1/dev/{clusterId}/time/res',
    direction: 'server → device',
    qos: 0,
    retain: false,
    schema: TimeResponseSchema,
    example: { id: 'ts-41', t0: T0, t1: T0 + 2_061.2, t2: T0 + 2_061.4 },
    behaviour: [
      'With `t3` = device clock at receipt: offset = ((t1 − t0) + (t2 − t3)) / 2, round trip = (t3 − t0) − (t2 − t1).',
      'Server time = device time + offset. Report the offset as `clockOffsetMs` in telemetry.',
      'Ignore a response whose `id` was not asked for.',
    ],
  },
  {
    channel: 'manifest',
    title: 'Manifest (store-and-forward)',
    topic: 'loa/v1/dev/{clusterId}/manifest',
    direction: 'server → device',
    qos: 1,
    retain: false,
    schema: ManifestSchema,
    example: { version: 42, baseVersion: 40, items: [EXAMPLE_ITEM], removed: ['bc-old1234567'] },
    behaviour: [
      'Subscribe (QoS 1) with the other own topics. Report the manifest version held in every birth (`manifestVersion`, 0 when none); the server answers with what changed since.',
      'Apply an update whose `baseVersion` is 0 (a full snapshot: drop every item not listed) or not above the version held; then hold `version`. An update with a `baseVersion` above the version held means one was missed: ignore it and publish `manifest/req` with the version held.',
      'Keep the manifest and its content across reboots and link loss: a cluster whose link drops still airs its programme on time.',
      'Fetch each item\'s content at once over HTTP (see Content fetch), verify its sha256, and report `downloaded` (or `failed` with `hash_mismatch` / `download_failed`, retrying with back-off until the item expires).',
      'An update whose `version` is not above the version held and whose `baseVersion` is not 0 was already applied: ignore it.',
      'An update with `baseVersion` = `version`, no items and none removed says "you are current at `version`": holding that version, the device is up to date (nothing to apply); holding less, it missed an update and publishes `manifest/req` with the version held.',
      'An item id listed in `removed` is dropped; if it is airing, stop it and report `cancelled`.',
      'Never air anything after its `expiresAt` (server time): report `skipped` with reason `expired` instead.',
    ],
  },
  {
    channel: 'manifest/req',
    title: 'Manifest request',
    topic: 'loa/v1/dev/{clusterId}/manifest/req',
    direction: 'device → server',
    qos: 1,
    retain: false,
    schema: ManifestRequestSchema,
    example: { version: 40 },
    behaviour: [
      'Publish when an update could not be applied (a gap in versions) or the stored manifest was lost (then `version` 0).',
      'The server always answers on `manifest`: a delta, a snapshot, or "you are current" (`baseVersion` = `version`).',
    ],
  },
  {
    channel: 'group-play',
    title: 'Group play orders',
    topic: 'loa/v1/grp/{groupId}/play',
    direction: 'server → device',
    qos: 1,
    retain: false,
    schema: GroupPlaySchema,
    example: { op: 'play', item: { ...EXAMPLE_ITEM, level: 'emergency', startAt: T0 + 2_000, repeat: { count: 3, intervalS: 60 }, volume: null } },
    behaviour: [
      'Subscribe to `play` for every group of the configuration, alongside `cmd`. One publish here reaches a whole commune: the emergency fan-out path.',
      '`play`: add the item exactly as if it had arrived in the manifest (same id: never air it twice). `cancel`: drop every item of that broadcast and stop it if airing (report `cancelled`).',
    ],
  },
  {
    channel: 'airing',
    title: 'Airing reports (proof of play)',
    topic: 'loa/v1/dev/{clusterId}/airing',
    direction: 'device → server',
    qos: 1,
    retain: false,
    schema: AiringReportSchema,
    example: { id: 'a-0007f3-12', itemId: 'bc-7k2m9xq4ta', broadcastId: 'bc-7k2m9xq4ta', seq: 0, state: 'started', ts: T0 + 3_600_004, serverTs: T0 + 3_600_001.5, positionMs: 0 },
    behaviour: [
      'Report each airing\'s life: `received` (item accepted), `downloaded` (content verified), `started`, `finished`; `interrupted`/`resumed` around a preemption; `failed`, `skipped` or `cancelled` with a `reason`.',
      '`seq` counts the airings of a repeated item from 0. `received` and `downloaded`, and `failed` for a content fetch, are reported once per item with `seq` 0.',
      'Buffer reports while offline exactly like events (at least 500, oldest first, at most 10 unacknowledged); the server keeps each report id once.',
    ],
  },
];
