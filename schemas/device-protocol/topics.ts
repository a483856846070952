/**
 * The one topic grammar of device protocol v1. Server, simulator and tests build and parse topics only here.
 *
 *   loa/v1/dev/{clusterId}/{channel}   one cluster's own topics
 *   loa/v1/grp/{groupId}/{cmd|play}    group fan-out (commune, hamlet, custom group)
 *
 * v1.1 added the playback channels (manifest, manifest/req, airing, group play); a v1.0 device never subscribes to
 * them and keeps working.
 */
export const PROTOCOL_VERSION = 1;
export const TOPIC_ROOT = `loa/v${PROTOCOL_VERSION}`;

/** Channels a device publishes on (device → server). */
export const DEVICE_UP = ['status', 'birth', 'telemetry', 'event', 'reply', 'time/req', 'airing', 'manifest/req'] as const;
/** Channels the server publishes on for one device (server → device). */
export const DEVICE_DOWN = ['cmd', 'config', 'time/res', 'manifest'] as const;
/** Channels of a group topic (server → every member). */
export const GROUP_CHANNELS = ['cmd', 'play'] as const;
export type GroupChannel = (typeof GROUP_CHANNELS)[number];

export type UpChannel = (typeof DEVICE_UP)[number];
export type DownChannel = (typeof DEVICE_DOWN)[number];
export type DeviceChannel = UpChannel | DownChannel;

export type ParsedTopic =
  | { kind: 'device'; clusterId: string; channel: DeviceChannel }
  | { kind: 'group'; groupId: string; channel: GroupChannel };

const ID = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;
const CHANNELS = new Set<string>([...DEVICE_UP, ...DEVICE_DOWN]);

export const isValidId = (s: string): boolean => ID.test(s);

export function deviceTopic(clusterId: string, channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/dev/${clusterId}/${channel}`;
}

export function groupTopic(groupId: string, channel: GroupChannel = 'cmd'): string {
  return `${TOPIC_ROOT}/grp/${groupId}/${channel}`;
}

/** Group ids for the area tree: every area is a group, so one publish reaches all clusters beneath it. */
export const areaGroupId = (areaId: string): string => `a-${areaId}`;

/** Parse a concrete (wildcard-free) topic. Returns null for anything outside the grammar. */
export function parseTopic(topic: string): ParsedTopic | null {
  if (!topic.startsWith(TOPIC_ROOT + '/')) return null;
  const rest = topic.slice(TOPIC_ROOT.length + 1).split('/');
  if (rest.length < 3 || rest.length > 4) return null;
  const [scope, id, ...ch] = rest;
  if (!ID.test(id)) return null;
  const channel = ch.join('/');
  if (scope === 'dev' && CHANNELS.has(channel)) return { kind: 'device', clusterId: id, channel: channel as DeviceChannel };
  if (scope === 'grp' && (channel === 'cmd' || channel === 'play')) return { kind: 'group', groupId: id, channel };
  return null;
}

export const isUpChannel = (c: DeviceChannel): c is UpChannel => (DEVICE_UP as readonly string[]).includes(c);
