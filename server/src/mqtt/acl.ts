import { DEVICE_DOWN, DEVICE_UP, TOPIC_ROOT, isUpChannel, isValidId, parseTopic } from '../../../schemas/device-protocol/topics.ts';

/**
 * The decisions of the broker access policy, as pure functions of (who, what): who may connect, publish where with
 * which QoS and retain flag, subscribe to what. The embedded broker's hooks (policy.ts) and the EMQX HTTP hooks
 * (emqx-hooks.ts) both ask these, so a device meets one ACL whichever broker it connects to. What depends on a live
 * connection (keep-alive, payload size, rate, subscription count) stays with the broker: policy.ts does it for
 * aedes, EMQX's own settings for EMQX (docs/emqx.md).
 *
 * Each function answers null for "allowed", or the refusal reason counted in loa_mqtt_messages_rejected_total.
 */

/** What the decisions read from the registry (DeviceDirectory has it). */
export interface AclDirectory {
  has(clusterId: string): boolean;
  authenticate(clusterId: string, secret: string): boolean;
  groupsOf(clusterId: string): string[];
}

export type ConnectRefusal = 'anonymous' | 'client_id_mismatch' | 'bad_credentials';
export type PublishRefusal = 'topic_not_allowed' | 'qos_not_allowed' | 'retain_not_allowed';
export type SubscribeRefusal = 'subscribe_not_allowed';

export interface PublishRequest {
  topic: string;
  qos: number;
  retain: boolean;
}

/** Channels a device may subscribe to on its own topic tree. */
const DOWN_SUBSCRIBABLE = new Set<string>(['cmd', 'config', 'time/res', 'manifest']);

/** A device's CONNECT: its username is its cluster id, so is its client id, and its password is its secret. */
export function deviceConnectRefusal(dir: AclDirectory, clientId: string, username: string | undefined, password: string | undefined): ConnectRefusal | null {
  if (!username || !password) return 'anonymous';
  if (username !== clientId) return 'client_id_mismatch';
  if (!dir.authenticate(username, password)) return 'bad_credentials';
  return null;
}

/**
 * A device's PUBLISH: only on its own up channels; §3 forbids QoS 2 (3.1.1 cannot refuse one PUBLISH, so the broker
 * closes the connection, §3.2); only `status` is retained. `clusterId` null (a will whose session is gone) is no one.
 */
export function devicePublishRefusal(clusterId: string | null, p: PublishRequest): PublishRefusal | null {
  const t = parseTopic(p.topic);
  if (!t || t.kind !== 'device' || t.clusterId !== clusterId || !isUpChannel(t.channel)) return 'topic_not_allowed';
  if (p.qos === 2) return 'qos_not_allowed';
  if (p.retain && t.channel !== 'status') return 'retain_not_allowed';
  return null;
}

/** A device's SUBSCRIBE: exact topics only — its own down channels and the group topics of its areas and groups. */
export function deviceSubscribeRefusal(clusterId: string, topic: string, groupsOf: (clusterId: string) => readonly string[]): SubscribeRefusal | null {
  const t = parseTopic(topic);
  if (t?.kind === 'device' && t.clusterId === clusterId && DOWN_SUBSCRIBABLE.has(t.channel)) return null;
  if (t?.kind === 'group' && groupsOf(clusterId).includes(t.groupId)) return null;
  return 'subscribe_not_allowed';
}

/** Device channels the server publishes retained: a device's config, and the offline status it writes for a revoked one. */
const SERVER_RETAINED = new Set<string>(['config', 'status']);
const DOWN = new Set<string>(DEVICE_DOWN);
/** The shared-subscription group the server instances share inbound traffic in (external-link.ts). */
export const SERVER_SHARE_GROUP = 'loa';

/**
 * The server's own account on an external broker that asks us (EMQX): it publishes on the devices' down topics and
 * the group topics, and the offline status of a device it revoked (external-link.ts disconnect); QoS 0 or 1.
 */
export function serverPublishRefusal(p: PublishRequest): PublishRefusal | null {
  const t = parseTopic(p.topic);
  const mine = t?.kind === 'group' || (t?.kind === 'device' && (DOWN.has(t.channel) || t.channel === 'status'));
  if (!t || !mine) return 'topic_not_allowed';
  if (p.qos === 2) return 'qos_not_allowed';
  if (p.retain && !(t.kind === 'device' && SERVER_RETAINED.has(t.channel))) return 'retain_not_allowed';
  return null;
}

/**
 * The server's SUBSCRIBE: the devices' up channels, for one cluster or all (`+`), plain or in the `$share/loa/`
 * group (external-link.ts start). EMQX 5 asks about the filter without its `$share/<group>/` prefix; older releases
 * passed it whole, so both are understood — another group's prefix is not.
 */
export function serverSubscribeRefusal(filter: string): SubscribeRefusal | null {
  const share = `$share/${SERVER_SHARE_GROUP}/`;
  const plain = filter.startsWith(share) ? filter.slice(share.length) : filter;
  const prefix = `${TOPIC_ROOT}/dev/`;
  if (!plain.startsWith(prefix)) return 'subscribe_not_allowed';
  const [id, ...channel] = plain.slice(prefix.length).split('/');
  const ch = channel.join('/');
  if ((id === '+' || isValidId(id)) && (DEVICE_UP as readonly string[]).includes(ch)) return null;
  return 'subscribe_not_allowed';
}
