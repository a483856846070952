import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { DEVICE_UP, TOPIC_ROOT, deviceTopic, isUpChannel, parseTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Bus } from '../shared/bus.ts';
import { DeviceAccounts, ensureServerRole, type AccountDirectory, type ReconcileReport } from './device-accounts.ts';
import type { DeviceLink, GroupSubscription } from './device-link.ts';
import { Dynsec } from './dynsec.ts';
import { LinkEvents } from './link-events.ts';


/** Inbound traffic is split over server instances by a shared subscription (issue 13). */
const SHARE = '$share/loa/';
/**
 * Mosquitto reports no subscriptions, so the manifest catch-up a group subscription triggers (onGroupSubscribed) is
 * cued this long after the device's birth instead: a device subscribes to its groups once the config that the birth
 * brings has arrived, well within this on any link that carries a birth at all.
 */
const GROUP_CUE_MS = 3_000;

export type AccountsMode = 'dynsec' | 'hooks';

export interface ExternalLinkOptions {
  url: string;
  username: string;
  password: string;
  /** this instance's client id; a persistent session (clean: false) keeps QoS 1 messages across a restart */
  clientId?: string;
  /** LOA_MQTT_ACCOUNTS: 'hooks' when the broker asks the server about every login and topic (EMQX, emqx-hooks.ts) */
  accounts?: AccountsMode;
  /** mqtts:// only (config.ts checks the files and the pairing) */
  tls?: ExternalTlsOptions;
}

export interface ExternalTlsOptions {
  /** PEM CA file trusted for the broker's certificate; absent = Node's bundled public CAs */
  caFile?: string;
  /** PEM client certificate and key, for a listener with `require_certificate true` */
  certFile?: string;
  keyFile?: string;
  /** the name the broker's certificate must carry when the URL's host is not it (an IP address) */
  servername?: string;
}

/**
 * The device link over an external broker (Mosquitto 2 with the dynamic-security plugin), as one mqtt.js client:
 * - messages: `$share/loa/loa/v1/dev/+/{channel}` for every up channel but status, so each publish reaches one
 *   instance; a QoS 1 message is acknowledged to the broker only once its handler settled (mqtt.js' handleMessage,
 *   which holds the PUBACK on every protocol version; its customHandleAcks is ignored below MQTT 5), so a crash
 *   leaves it with the broker for redelivery (issue 8's guarantee; the device itself was acked by the broker).
 *   mqtt.js takes inbound packets one at a time, so a slow QoS 1 handler slows this instance's intake.
 * - the server's own role (loa-server: publish on the devices' down topics) is set up before anything is subscribed
 *   or published: adding it makes Mosquitto disconnect this client (device-accounts.ts, ensureServerRole).
 * - sessions: from the retained status and the last will on `loa/v1/dev/+/status`, subscribed by every instance
 *   (not shared: shared subscriptions get no retained messages, and each instance keeps its own presence).
 * - disconnect, group subscriptions: through the device's account and role (device-accounts.ts).
 */
export class ExternalLink extends LinkEvents implements DeviceLink {
  private online = new Set<string>();
  private early: { topic: string; payload: Buffer }[] | null = [];
  private cues = new Map<string, NodeJS.Timeout>();
  private directory?: AccountDirectory;
  readonly dynsec: Dynsec;
  accounts?: DeviceAccounts;

  constructor(readonly client: MqttClient, private serverUsername: string, private accountsMode: AccountsMode = 'dynsec') {
    super();
    this.dynsec = new Dynsec(client);
    // mqtt.js calls handleMessage for every inbound publish, after its 'message' event, and sends a QoS 1 PUBACK
    // only once the callback ran: QoS 0 goes on at once, QoS 1 once its handler settled.
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void): void => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      if (this.early && parseTopic(packet.topic)?.kind === 'device') {
        // What the broker kept for this instance's session arrives right after CONNACK, before the handlers are
        // attached; held until open() (acknowledged now: holding the PUBACK would hold every packet behind it,
        // the dynamic-security answers start-up waits for among them).
        this.early.push({ topic: packet.topic, payload });
        return callback();
      }
      const settled = this.dispatch(packet.topic, payload);
      if (settled && packet.qos > 0) void settled.then(() => callback());
      else callback();
    };
  }

  async start(): Promise<void> {
    if (this.accountsMode === 'dynsec') {
      await this.dynsec.start();
      await ensureServerRole(this.dynsec, this.serverUsername);
    }
    const channels = DEVICE_UP.filter((c) => c !== 'status');
    await this.client.subscribeAsync([`${TOPIC_ROOT}/dev/+/status`, ...channels.map((c) => `${SHARE}${TOPIC_ROOT}/dev/+/${c}`)], { qos: 1 });
  }

  /**
   * Keeps the broker's accounts in step with the registry from now on, then reconciles them with it. A secret
   * exists in plaintext only when issued, so provisioning and rotation reach the broker from that event.
   */
  manage(directory: AccountDirectory, bus: Bus, onError: (err: unknown, clusterId: string) => void): Promise<ReconcileReport> {
    this.directory = directory;
    // With hooks the broker asks the registry itself: there are no broker accounts to keep in step.
    if (this.accountsMode === 'hooks') return Promise.resolve({ removed: [], missing: [], updated: 0 });
    const accounts = (this.accounts = new DeviceAccounts(this.dynsec, directory, this.serverUsername));
    bus.on('device.credential_issued', ({ clusterId, secret }) => void accounts.provision(clusterId, secret).catch((e) => onError(e, clusterId)));
    return accounts.reconcile();
  }

  /** The handlers are attached: device messages are handled from now on, those held since connecting first. */
  async open(): Promise<void> {
    const held = this.early ?? [];
    this.early = null;
    for (const m of held) await this.dispatch(m.topic, m.payload);
  }

  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    return this.client.publishAsync(topic, payload, { qos: opts.qos, retain: opts.retain ?? false }).then(() => undefined);
  }

  isConnected(clusterId: string): boolean {
    return this.online.has(clusterId);
  }

  /**
   * Revoked or deleted here: the broker account is deleted (Mosquitto closes the session). Otherwise (a rotation,
   * whose new password the account already has): the session is kicked. A kicked client's will is not published, so
   * the server publishes its retained offline status for it.
   */
  async disconnect(clusterId: string): Promise<void> {
    if (this.accountsMode === 'hooks') return this.disconnectByHooks(clusterId);
    if (!this.accounts) return;
    if (this.directory?.hasCredential(clusterId)) await this.accounts.kick(clusterId);
    else await this.accounts.revoke(clusterId);
    await this.publish(deviceTopic(clusterId, 'status'), Buffer.from('{"state":"offline"}'), { qos: 1, retain: true });
  }

  /**
   * With hooks the session cannot be closed from here (that takes EMQX's REST API, which the server has no account
   * on): the broker's authorisation hook refuses a revoked device's every publish and subscribe from now on (at once
   * with EMQX's authorisation cache off, docs/emqx.md), and `deny_action = disconnect` closes it at its next one. A
   * rotation leaves the running session alone; the old secret no longer opens a new one. For a revoked device the
   * retained status is made offline, as its own will may now be refused.
   */
  private async disconnectByHooks(clusterId: string): Promise<void> {
    if (this.directory?.hasCredential(clusterId)) return;
    await this.publish(deviceTopic(clusterId, 'status'), Buffer.from('{"state":"offline"}'), { qos: 1, retain: true });
  }

  /**
   * Through the device's role: resolves to the group topics it may no longer subscribe to nor be delivered. With
   * hooks nothing is dropped: EMQX asks no one before delivering on a subscription it granted, so a group left keeps
   * reaching the device until it reconnects (its config no longer lists the group, and the hook refuses it then).
   */
  async dropGroupSubscriptions(clusterId: string, allowedGroups: readonly string[]): Promise<string[]> {
    return this.accounts ? this.accounts.setGroups(clusterId, allowedGroups) : [];
  }

  get up(): boolean {
    return this.client.connected;
  }

  async close(): Promise<void> {
    for (const t of this.cues.values()) clearTimeout(t);
    this.dynsec.close();
    await this.client.endAsync();
  }

  private dispatch(topic: string, payload: Buffer): Promise<unknown> | undefined {
    const t = parseTopic(topic);
    if (!t || t.kind !== 'device' || !isUpChannel(t.channel)) return;
    if (t.channel === 'status') this.presence(t.clusterId, payload);
    if (t.channel === 'birth') this.cueGroups(t.clusterId);
    const handler = this.handlers.get(t.channel);
    if (!handler) return;
    try {
      const out = handler(t.clusterId, payload);
      if (out && typeof (out as Promise<unknown>).then === 'function') return (out as Promise<unknown>).then(ok, ok);
    } catch {
      /* handlers report their own failures (router.ts) */
    }
  }

  private presence(clusterId: string, payload: Buffer): void {
    let state: unknown;
    try {
      state = JSON.parse(payload.toString('utf8'))?.state;
    } catch {
      return;
    }
    if (state === 'online') {
      this.online.add(clusterId);
      this.ups.emit(clusterId);
    } else if (state === 'offline' && this.online.delete(clusterId)) {
      this.downs.emit(clusterId);
    }
  }

  private cueGroups(clusterId: string): void {
    clearTimeout(this.cues.get(clusterId));
    const timer = setTimeout(() => {
      this.cues.delete(clusterId);
      const groups = this.directory?.groupsOf(clusterId) ?? [];
      if (groups.length) this.groupSubs.emit(clusterId, groups.map((groupId) => ({ groupId, channel: 'play' as const })));
    }, GROUP_CUE_MS);
    timer.unref();
    this.cues.set(clusterId, timer);
  }
}

const ok = (): void => undefined;

/** Connects to the external broker (LOA_MQTT_URL) and subscribes; rejects when the first connection fails. */
export async function createExternalLink(o: ExternalLinkOptions): Promise<ExternalLink> {
  const client = mqtt.connect(o.url, {
    clientId: o.clientId || `loa-server-${hostname()}`,
    username: o.username,
    password: o.password,
    clean: false,
    protocolVersion: 4,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...tlsConnectOptions(o.tls),
  });
  const link = new ExternalLink(client, o.username, o.accounts);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => {
      client.end(true);
      reject(describeConnectError(o.url, err));
    });
  });
  await link.start();
  return link;
}

/**
 * Files are read once: a reconnection reuses them, so a renewed CA or client certificate takes a restart.
 * rejectUnauthorized is stated although it is mqtt.js' default: the broker's certificate and its name are always
 * checked, and no setting turns that off.
 */
function tlsConnectOptions(t: ExternalTlsOptions | undefined): Partial<IClientOptions> {
  if (!t) return {};
  return {
    rejectUnauthorized: true,
    ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
    ...(t.certFile && t.keyFile ? { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) } : {}),
    ...(t.servername ? { servername: t.servername } : {}),
  };
}

/** Node's TLS codes name OpenSSL's checks; an operator needs to know which setting to look at. */
const TRUST_CODES = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE']);

function describeConnectError(url: string, err: Error & { code?: string | number }): Error {
  const code = String(err.code ?? '');
  let hint = '';
  if (TRUST_CODES.has(code)) hint = "the broker's certificate is not trusted: LOA_MQTT_CA_FILE must hold the CA that signed it";
  else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') hint = "the broker's certificate does not name this host: fix LOA_MQTT_URL, or set LOA_MQTT_TLS_SERVERNAME to the name it carries";
  else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') hint = "the broker's certificate is outside its validity period";
  else if (/^ERR_SSL_.*ALERT_(CERTIFICATE|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE)/.test(code)) {
    hint = 'the broker refused the TLS handshake, most likely for want of a client certificate it trusts (LOA_MQTT_CLIENT_CERT_FILE, LOA_MQTT_CLIENT_KEY_FILE)';
  }
  // OpenSSL's own text ("80…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…") keeps
  // only its reason.
  const reason = err.message.trim().replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):.*$/s, '$1');
  const out = new Error(`external MQTT broker ${url}: ${hint ? hint + ' — ' : ''}${reason}${code ? ` (${code})` : ''}`, { cause: err });
  return Object.assign(out, { code: err.code });
}
