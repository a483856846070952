import type { GroupChannel, UpChannel } from '../../../schemas/device-protocol/topics.ts';

/** How services send to devices without knowing which broker carries it. */
export interface Publisher {
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void>;
}

/**
 * Handles one device publish on one up channel. The publish is already authorised (its topic is the sender's own).
 * A returned promise holds the acknowledgement: a QoS 1 report counts as delivered only once it has settled, so a
 * crash cannot lose a report the device was told is safe (issue 8). A handler never throws (the router catches).
 */
export type DeviceMessageHandler = (clusterId: string, payload: Buffer) => unknown;

/** A subscription the broker granted a device, in the topic grammar. */
export interface GroupSubscription {
  groupId: string;
  channel: GroupChannel;
}

/** Removes the listener it was returned for. */
export type Unlisten = () => void;

/**
 * The server's one way to and from devices, whichever broker carries the traffic (issue 13, "The seams"). Services
 * and device handlers see only this; the composition root (app.ts) picks the implementation.
 *
 * - embedded (embedded-link.ts): aedes in this process; the access policy is aedes' hooks (policy.ts); messages are
 *   taken in the authorisation hook, sessions from aedes' connect/disconnect events.
 * - external (to come, mqtt.js): a client of Mosquitto or EMQX; the broker enforces the ACL; messages arrive on the
 *   shared subscriptions `$share/loa/loa/v1/dev/+/{channel}` (one instance of several gets each), sessions from the
 *   retained status and last will (or EMQX's client events), and disconnect/drop go through the broker's admin API.
 *
 * Topics are built and parsed only by schemas/device-protocol/topics.ts; a link never invents one.
 */
export interface DeviceLink extends Publisher {
  /** Handles every device's publishes on `channel`; one handler per channel (a second replaces the first). */
  onMessage(channel: UpChannel, handler: DeviceMessageHandler): Unlisten;
  /** A session of the cluster came up (connected and acknowledged); a newer one taking over reports up again. */
  onSessionUp(listener: (clusterId: string) => void): Unlisten;
  /**
   * The cluster's current session ended. The end of one that a newer session replaced is not reported: a down may
   * come just before the newer session's up, never after it.
   */
  onSessionDown(listener: (clusterId: string) => void): Unlisten;
  /**
   * The broker granted a cluster group subscriptions (the manifest catch-up after a birth hangs on it). A broker
   * that reports no subscriptions (Mosquitto) cannot call it: an external link must give the same cue another way.
   */
  onGroupSubscribed(listener: (clusterId: string, subs: GroupSubscription[]) => void): Unlisten;
  /** Whether the cluster holds a session now, as far as this instance knows. */
  isConnected(clusterId: string): boolean;
  /** Cuts the cluster's session (its credentials were revoked); resolves once it is closed. No session: no-op. */
  disconnect(clusterId: string): Promise<void>;
  /**
   * The ACL is checked when a device subscribes; once a cluster moves area its old group subscriptions would outlive
   * their permission. Removes from its live session every group subscription outside `allowedGroups`; resolves to
   * the topics removed.
   */
  dropGroupSubscriptions(clusterId: string, allowedGroups: readonly string[]): Promise<string[]>;
  /** Whether devices can reach the server through this link now (the broker is open, or the client connected). */
  readonly up: boolean;
  /** Stops the link: embedded, the broker and every session; external, only the server's own client. */
  close(): Promise<void>;
}
