/**
 * A real aedes broker on a random port, playing the server's side of protocol v1 through the broker API (as the
 * Loa Xã server does with its embedded broker). It records every publish exactly as the client sent it — QoS and
 * retain included — which a subscriber could not see (brokers clear retain on live forwarding).
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import { deviceTopic, groupTopic, parseTopic, type DeviceConfig } from '../../schemas/device-protocol/index.ts';

export interface Recorded {
  clientId: string | null;
  topic: string;
  qos: number;
  retain: boolean;
  payload: Buffer;
  json: any;
  at: number;
  /** Published by the broker as the client's last will (aedes reports the will under the dead client). */
  will: boolean;
}

export interface ConnectRecord {
  clientId: string;
  at: number;
  username?: string;
  password?: string;
  keepalive?: number;
  clean?: boolean;
  will?: { topic: string; payload: string; qos?: number; retain?: boolean };
}

export interface BrokerOptions {
  /** Server clock for time sync responses. Default Date.now. */
  trueNow?: () => number;
  /** Answer time/req automatically. Default true. */
  timeServer?: boolean;
}

export class TestBroker {
  readonly publishes: Recorded[] = [];
  readonly connects: ConnectRecord[] = [];
  /** Current subscriptions per client id. */
  readonly subs = new Map<string, Set<string>>();
  readonly secrets = new Map<string, string>();
  /** When set for a cluster, group subscriptions outside this list are refused (SUBACK 0x80). */
  readonly allowedGroups = new Map<string, string[]>();
  url = '';
  port = 0;
  timeServer: boolean;
  trueNow: () => number;
  /** Extra delay before the server stamps t1 (an up-link delay the device cannot see). */
  timeReqDelayMs = 0;
  /** Hold each device QoS 1 publish this long in authorizePublish (as the server's rate limit does). */
  qos1DelayMs = 0;
  /** Most QoS 1 publishes of one client being authorised at once: aedes authorises a whole TCP read concurrently. */
  readonly maxConcurrentQos1 = new Map<string, number>();
  private concurrentQos1 = new Map<string, number>();

  private constructor(
    readonly aedes: Aedes,
    private readonly server: Server,
    opts: BrokerOptions,
  ) {
    this.trueNow = opts.trueNow ?? Date.now;
    this.timeServer = opts.timeServer ?? true;
  }

  static async start(opts: BrokerOptions = {}): Promise<TestBroker> {
    const aedes = await Aedes.createBroker({ heartbeatInterval: 3_600_000 });
    const server = createServer(aedes.handle);
    const b = new TestBroker(aedes, server, opts);
    b.install();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    b.port = (server.address() as AddressInfo).port;
    b.url = `mqtt://127.0.0.1:${b.port}`;
    return b;
  }

  private install(): void {
    const a = this.aedes;
    a.preConnect = (client, packet, cb) => {
      this.connects.push({
        clientId: packet.clientId,
        at: Date.now(),
        username: packet.username,
        password: packet.password?.toString(),
        keepalive: packet.keepalive,
        clean: packet.clean,
        will: packet.will && {
          topic: packet.will.topic,
          payload: Buffer.from(packet.will.payload).toString(),
          qos: packet.will.qos,
          retain: packet.will.retain,
        },
      });
      cb(null, true);
    };
    a.authenticate = (client, username, password, cb) => {
      const want = this.secrets.get(client.id);
      const ok = want === undefined || (username === client.id && password?.toString() === want);
      if (ok) return cb(null, true);
      const err = Object.assign(new Error('bad credentials'), { returnCode: 5 as const });
      cb(err as never, false);
    };
    a.authorizeSubscribe = (client, sub, cb) => {
      const t = parseTopic(sub.topic);
      const allowed = this.allowedGroups.get(client.id);
      if (t?.kind === 'group' && allowed && !allowed.includes(t.groupId)) return cb(null, null);
      cb(null, sub);
    };
    // The will reaches authorizePublish while its client is closing; remember its payload buffer (aedes carries the
    // same Buffer into the 'publish' event) to tell the will from the device's own late-arriving publishes.
    const willPayloads = new WeakSet<Buffer>();
    a.authorizePublish = (client, packet, cb) => {
      if (client?.closed) willPayloads.add(packet.payload as Buffer);
      if (!client || client.closed || packet.qos !== 1) return cb(null);
      const id = client.id;
      const n = (this.concurrentQos1.get(id) ?? 0) + 1;
      this.concurrentQos1.set(id, n);
      this.maxConcurrentQos1.set(id, Math.max(n, this.maxConcurrentQos1.get(id) ?? 0));
      const done = () => {
        this.concurrentQos1.set(id, (this.concurrentQos1.get(id) ?? 1) - 1);
        cb(null);
      };
      if (this.qos1DelayMs) setTimeout(done, this.qos1DelayMs);
      else done();
    };
    a.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
      if (!packet.topic.startsWith('loa/')) return;
      let json: unknown;
      try {
        json = JSON.parse(packet.payload.toString());
      } catch {
        json = undefined;
      }
      this.publishes.push({
        clientId: client?.id ?? null,
        topic: packet.topic,
        qos: packet.qos,
        retain: packet.retain,
        payload: Buffer.from(packet.payload),
        json,
        at: this.trueNow(),
        will: willPayloads.has(packet.payload as Buffer),
      });
    });
    a.on('subscribe', (subs, client) => {
      const set = this.subs.get(client.id) ?? new Set();
      for (const s of subs) if ((s.qos as number) !== 128) set.add(s.topic);
      this.subs.set(client.id, set);
    });
    a.on('unsubscribe', (topics, client) => {
      const set = this.subs.get(client.id);
      for (const t of topics) set?.delete(t);
    });
    a.on('clientDisconnect', (client) => this.subs.delete(client.id));
    a.subscribe(
      'loa/v1/dev/+/time/req',
      (packet, cb) => {
        cb();
        if (!this.timeServer) return;
        const t1 = this.trueNow();
        const t = parseTopic(packet.topic);
        let req: { id: string; t0: number };
        try {
          req = JSON.parse(packet.payload.toString());
        } catch {
          return;
        }
        if (t?.kind !== 'device') return;
        const respond = () => {
          const stamp = this.timeReqDelayMs ? this.trueNow() : t1;
          this.publish(deviceTopic(t.clusterId, 'time/res'), { id: req.id, t0: req.t0, t1: stamp, t2: this.trueNow() }, { qos: 0 });
        };
        if (this.timeReqDelayMs) setTimeout(respond, this.timeReqDelayMs);
        else respond();
      },
      () => {},
    );
  }

  publish(topic: string, payload: unknown, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    const packet = { cmd: 'publish', topic, payload: buf, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false } as PublishPacket;
    return new Promise((res, rej) => this.aedes.publish(packet, (err) => (err ? rej(err) : res())));
  }

  sendConfig(clusterId: string, cfg: Partial<DeviceConfig> & { version: number }): Promise<void> {
    const full: DeviceConfig = { telemetryIntervalS: 30, timeSyncIntervalS: 600, groups: [], emergencyVolume: 100, ...cfg };
    this.allowedGroups.set(clusterId, full.groups);
    return this.publish(deviceTopic(clusterId, 'config'), full, { qos: 1, retain: true });
  }

  sendCommand(target: { cluster: string } | { group: string }, cmd: Record<string, unknown>): Promise<void> {
    const topic = 'cluster' in target ? deviceTopic(target.cluster, 'cmd') : groupTopic(target.group);
    return this.publish(topic, cmd, { qos: 1 });
  }

  /** A fresh command valid for `ttlMs` of server time. */
  command(name: string, args?: Record<string, unknown>, ttlMs = 60_000, id = `cmd-${Math.random().toString(36).slice(2, 10)}`) {
    const now = this.trueNow();
    return { id, name, issuedAt: Math.round(now), expiresAt: Math.round(now + ttlMs), ...(args ? { args } : {}) };
  }

  /** Recorded publishes by a cluster on one of its channels, oldest first; wills excluded. */
  from(clusterId: string, channel: string): Recorded[] {
    const topic = `loa/v1/dev/${clusterId}/${channel}`;
    return this.publishes.filter((p) => p.topic === topic && p.clientId === clusterId && !p.will);
  }

  wills(clusterId: string): Recorded[] {
    return this.publishes.filter((p) => p.clientId === clusterId && p.will);
  }

  /** Everything published on a topic, including wills and the server's own publishes (clientId null). */
  on(topic: string): Recorded[] {
    return this.publishes.filter((p) => p.topic === topic);
  }

  async close(): Promise<void> {
    await new Promise<void>((res) => this.aedes.close(() => res()));
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

/** Poll until `cond` holds (returns truthy) or fail after `timeoutMs` with `what` in the message. */
export async function waitFor<T>(cond: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const SECRET = 'sim-secret-0123456789abcdef';
export const OUTPUTS = [
  { index: 0, label: 'Hướng chợ', ratedW: 50 },
  { index: 1, label: 'Hướng trường', ratedW: 50 },
];
