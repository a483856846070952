import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { DEVICE_DOWN, DEVICE_UP, GROUP_CHANNELS, TOPIC_ROOT, deviceTopic, groupTopic } from '../../../schemas/device-protocol/topics.ts';

/**
 * A client of Mosquitto 2's dynamic-security plugin: JSON commands published to `$CONTROL/dynamic-security/v1`,
 * answers on `…/v1/response` ({"responses":[{command, error?, data?, correlationData?}]}), one answer per command,
 * matched here by the `correlationData` each command carries. The account the server logs in with must hold the
 * plugin's admin role (what `mosquitto_ctrl dynsec init <file> <user> <password>` creates).
 *
 * Mosquitto itself disconnects a client's live sessions on deleteClient, disableClient and setClientPassword (and on
 * a change of its roles), so revocation here takes effect at the broker at once.
 */
export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}
export interface DynsecResponse {
  command: string;
  error?: string;
  data?: any;
  correlationData?: string;
}
export type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';
export interface Acl {
  acltype: AclType;
  topic: string;
  priority?: number;
  allow: boolean;
}

export class DynsecError extends Error {
  constructor(readonly command: string, readonly reason: string) {
    super(`dynamic-security ${command}: ${reason}`);
  }
}

interface Pending {
  resolve: (r: DynsecResponse) => void;
  timer: NodeJS.Timeout;
}

export class Dynsec {
  private pending = new Map<string, Pending>();
  private prefix = randomBytes(6).toString('hex');
  private seq = 0;

  constructor(private client: MqttClient, private timeoutMs = 10_000) {
    client.on('message', (topic, payload) => topic === RESPONSE_TOPIC && this.settle(payload));
  }

  /** Subscribes to the answers; call once the client is connected (again after a reconnect without a session). */
  async start(): Promise<void> {
    await this.client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
  }

  /** Sends the commands in one message; resolves to their answers in order (an answer may carry `error`). */
  run(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    if (!commands.length) return Promise.resolve([]);
    const ids = commands.map(() => `${this.prefix}-${++this.seq}`);
    const answers = ids.map(
      (id, i) =>
        new Promise<DynsecResponse>((resolve) => {
          const timer = setTimeout(() => {
            this.pending.delete(id);
            resolve({ command: commands[i].command, error: 'no answer from the broker (timeout)' });
          }, this.timeoutMs);
          this.pending.set(id, { resolve, timer });
        }),
    );
    const body = JSON.stringify({ commands: commands.map((c, i) => ({ ...c, correlationData: ids[i] })) });
    this.client.publish(CONTROL_TOPIC, body, { qos: 1 }, (err) => {
      if (!err) return;
      for (const id of ids) this.settleOne({ command: 'publish', error: String(err), correlationData: id });
    });
    return Promise.all(answers);
  }

  /** Runs commands, throwing on the first error not listed in `tolerate` (e.g. "Client already exists"). */
  async must(commands: DynsecCommand[], tolerate: RegExp = /$^/): Promise<DynsecResponse[]> {
    const out = await this.run(commands);
    const bad = out.find((r) => r.error && !tolerate.test(r.error));
    if (bad) throw new DynsecError(bad.command, bad.error!);
    return out;
  }

  /**
   * Sends a command that makes Mosquitto disconnect this very client (a change to its own roles does) and resolves
   * once mqtt.js has reconnected; the answer is lost with the session.
   */
  async runKickingMe(command: DynsecCommand, timeoutMs = 15_000): Promise<void> {
    const back = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reconnection after ${command.command}`)), timeoutMs);
      this.client.once('close', () => this.client.once('connect', () => (clearTimeout(timer), resolve())));
    });
    void this.run([command]);
    await back;
  }

  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ command: 'close', error: 'closed', correlationData: id });
    }
    this.pending.clear();
  }

  private settle(payload: Buffer): void {
    let body: { responses?: DynsecResponse[] };
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    for (const r of body.responses ?? []) this.settleOne(r);
  }

  private settleOne(r: DynsecResponse): void {
    const p = r.correlationData ? this.pending.get(r.correlationData) : undefined;
    if (!p) return; // another instance's answer: every admin client subscribed to the response topic sees it
    clearTimeout(p.timer);
    this.pending.delete(r.correlationData!);
    p.resolve(r);
  }
}

/** The role that carries one device's ACL; one per device, so a change to its groups touches no other. */
export const deviceRole = (clusterId: string): string => `loa-dev-${clusterId}`;
/** The role added to the server's own account: every protocol topic, shared subscriptions included. */
export const SERVER_ROLE = 'loa-server';

const allow = (acltype: AclType, topic: string, priority = 1): Acl => ({ acltype, topic, priority, allow: true });

/** The group part of a device's ACL: subscribe to, and be delivered, its groups' cmd and play topics. */
export function groupAcls(groupIds: readonly string[]): Acl[] {
  return groupIds.flatMap((g) => GROUP_CHANNELS.flatMap((ch) => [allow('subscribeLiteral', groupTopic(g, ch)), allow('publishClientReceive', groupTopic(g, ch))]));
}

/**
 * One device's ACL, mirroring policy.ts: publish only on its own up channels, subscribe only to its own down
 * channels and its groups' topics (literal topics: no wildcards). Delivery from group topics is allowed per group and
 * denied for every other group (priority 0), so a group the device has left stops reaching it at once, even though
 * Mosquitto does not remove a subscription it granted earlier. What an ACL cannot say stays the broker
 * configuration's business (max_qos 1, max_packet_size, max_keepalive…) or is not enforced on Mosquitto: retain only on
 * `status` and the publish rate (docs/mosquitto.md §5; the role's literal topics bound the subscription count).
 */
export function deviceAcls(clusterId: string, groupIds: readonly string[]): Acl[] {
  return [
    ...DEVICE_UP.map((ch) => allow('publishClientSend', deviceTopic(clusterId, ch))),
    ...DEVICE_DOWN.map((ch) => allow('subscribeLiteral', deviceTopic(clusterId, ch))),
    { acltype: 'publishClientReceive', topic: `${TOPIC_ROOT}/grp/#`, priority: 0, allow: false },
    ...groupAcls(groupIds),
  ];
}

/** What the server's own account needs beyond the admin role: publish and receive every protocol topic. */
export const serverAcls = (): Acl[] => [
  allow('publishClientSend', `${TOPIC_ROOT}/#`),
  allow('publishClientReceive', `${TOPIC_ROOT}/#`),
  allow('subscribePattern', `${TOPIC_ROOT}/#`),
  allow('subscribePattern', `$share/loa/${TOPIC_ROOT}/#`),
];
