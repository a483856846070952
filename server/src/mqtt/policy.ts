import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { isUpChannel, parseTopic } from '../../../schemas/device-protocol/topics.ts';
import type { DeviceDirectory } from '../devices/directory.ts';

export interface PolicyOptions {
  directory: DeviceDirectory;
  maxPacketBytes: number;
  /** sustained publishes per second per client; bursts of 5 s worth pass untouched */
  publishRate: number;
  maxSubscriptions: number;
  onReject: (clusterId: string | null, reason: string, detail?: string) => void;
}

/** Channels a device may subscribe to on its own topic tree. */
const DOWN_SUBSCRIBABLE = new Set(['cmd', 'config', 'time/res', 'manifest']);
/** The longest a client is held back by the rate limit before it is cut off instead. */
const MAX_THROTTLE_MS = 5_000;

class Bucket {
  tokens: number;
  at: number;
  constructor(private rate: number, private burst: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }
  /** Milliseconds to wait before one more publish is allowed (0 = now); reserves the token. */
  take(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }
}

function fail(code: 2 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/**
 * The broker's whole access policy: who may connect, publish where, subscribe to what, how fast.
 * Devices are their own MQTT identity (username = client id = cluster id); the server publishes in-process and
 * needs no network identity, so no other login exists.
 */
export function installPolicy(broker: Aedes, o: PolicyOptions): void {
  const buckets = new WeakMap<Client, Bucket>();
  const subs = new WeakMap<Client, Set<string>>();

  /** Keep-alive asked for in CONNECT, kept for authenticate (which is not given the packet). */
  const keepalives = new WeakMap<Client, number>();

  broker.preConnect = (client, packet, done) => {
    // §2.2: MQTT 3.1.1 (level 4) only. aedes itself accepts 3.1 (level 3); it answers CONNACK 1 only for a level
    // outside 3–4, so a level 3 CONNECT is marked as such and aedes' own check sends the refusal and closes.
    if (packet.protocolVersion !== 4) {
      o.onReject(null, 'protocol_version', String(packet.protocolVersion));
      packet.protocolVersion = 0 as never;
    }
    keepalives.set(client, packet.keepalive ?? 0);
    done(null, true);
  };

  broker.authenticate = (client, username, password, done) => {
    const id = client.id;
    // §2.2: keep alive MUST NOT be 0 — the broker could never notice a silent link. MQTT 3.1.1 has no code for a
    // refused keep-alive; 2 (identifier rejected) is what mosquitto answers for one outside its limits.
    if (!keepalives.get(client)) {
      o.onReject(null, 'keepalive_zero', id);
      return done(fail(2, 'keep alive must not be 0'), false);
    }
    if (!username || !password) {
      o.onReject(null, 'anonymous');
      return done(fail(5, 'credentials required'), false);
    }
    if (username !== id) {
      o.onReject(null, 'client_id_mismatch', `${username} as ${id}`);
      return done(fail(2, 'client id must equal the username (cluster id)'), false);
    }
    if (!o.directory.authenticate(username, password.toString('utf8'))) {
      o.onReject(o.directory.has(username) ? username : null, 'bad_credentials');
      return done(fail(4, 'bad username or password'), false);
    }
    buckets.set(client, new Bucket(o.publishRate, o.publishRate * 5, Date.now()));
    subs.set(client, new Set());
    done(null, true);
  };

  // In front of whatever hook is there already (the device link's dispatch): an allowed publish goes on to it.
  const next = broker.authorizePublish;
  broker.authorizePublish = (client, packet: PublishPacket, done) => {
    const pass = () => (next ? next.call(broker, client, packet, done) : done(null));
    const parsed = parseTopic(packet.topic);
    // client is null only for a will left by a session that is already gone; it was authorised when set.
    const id = client?.id ?? (parsed?.kind === 'device' ? parsed.clusterId : null);
    const deny = (reason: string) => {
      o.onReject(id, reason, packet.topic);
      done(new Error(`publish refused: ${reason}`));
    };
    if (!parsed || parsed.kind !== 'device' || parsed.clusterId !== id || !isUpChannel(parsed.channel)) return deny('topic_not_allowed');
    // §3: QoS 2 MUST NOT be used; 3.1.1 cannot refuse one PUBLISH, so the connection is closed (§3.2).
    if (packet.qos === 2) return deny('qos_not_allowed');
    if (packet.retain && parsed.channel !== 'status') return deny('retain_not_allowed');
    if (packet.payload.length > o.maxPacketBytes) return deny('too_large');
    // The last will must go out at once: holding it back would show a dead cluster as online.
    if (client && packet === (client as unknown as { will?: unknown }).will) return pass();
    const bucket = client && buckets.get(client);
    const wait = bucket ? bucket.take(Date.now()) : 0;
    if (wait === 0) return pass();
    if (wait > MAX_THROTTLE_MS) return deny('rate_limited');
    // Holding the callback holds this client's next packets too: back-pressure instead of loss.
    setTimeout(pass, wait);
  };

  broker.authorizeSubscribe = (client, sub: Subscription, done) => {
    const parsed = parseTopic(sub.topic);
    const own = parsed?.kind === 'device' && parsed.clusterId === client.id && DOWN_SUBSCRIBABLE.has(parsed.channel);
    const group = parsed?.kind === 'group' && o.directory.groupsOf(client.id).includes(parsed.groupId);
    const set = subs.get(client);
    if (!own && !group) {
      o.onReject(client.id, 'subscribe_not_allowed', sub.topic);
      return done(null, null);
    }
    if (set && !set.has(sub.topic) && set.size >= o.maxSubscriptions) {
      o.onReject(client.id, 'too_many_subscriptions', sub.topic);
      return done(null, null);
    }
    set?.add(sub.topic);
    done(null, sub);
  };

  broker.on('unsubscribe', (topics, client) => {
    const set = client && subs.get(client);
    if (set) for (const t of topics) set.delete(t);
  });
}
