import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { parseTopic } from '../../../schemas/device-protocol/topics.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import { deviceConnectRefusal, devicePublishRefusal, deviceSubscribeRefusal, type ConnectRefusal } from './acl.ts';

export interface PolicyOptions {
  directory: DeviceDirectory;
  maxPacketBytes: number;
  /** sustained publishes per second per client; bursts of 5 s worth pass untouched */
  publishRate: number;
  maxSubscriptions: number;
  onReject: (clusterId: string | null, reason: string, detail?: string) => void;
}

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

/** CONNACK return code and message for each refusal of a CONNECT (acl.ts decides, MQTT 3.1.1 §3.2.2.3 says how). */
const CONNACK: Record<ConnectRefusal, [2 | 4 | 5, string]> = {
  anonymous: [5, 'credentials required'],
  client_id_mismatch: [2, 'client id must equal the username (cluster id)'],
  bad_credentials: [4, 'bad username or password'],
};

/**
 * The embedded broker's whole access policy: who may connect, publish where, subscribe to what, how fast. The
 * decisions about who and where are acl.ts's (shared with the EMQX hooks); what needs the live connection — keep
 * alive, payload size, rate, subscription count — is enforced here.
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
    const refused = deviceConnectRefusal(o.directory, id, username, password?.toString('utf8'));
    if (refused) {
      if (refused === 'client_id_mismatch') o.onReject(null, refused, `${username} as ${id}`);
      else o.onReject(refused === 'bad_credentials' && o.directory.has(username!) ? username! : null, refused);
      const [code, message] = CONNACK[refused];
      return done(fail(code, message), false);
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
    const refused = devicePublishRefusal(id, packet);
    if (refused) return deny(refused);
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
    const set = subs.get(client);
    const refused = deviceSubscribeRefusal(client.id, sub.topic, (id) => o.directory.groupsOf(id));
    if (refused) {
      o.onReject(client.id, refused, sub.topic);
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
