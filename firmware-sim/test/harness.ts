/**
 * A real aedes broker on a random port, playing the server's side of protocol v1 through the broker API (as the
 * Loa Xã server does with its embedded broker). It records every publish exactly as the client sent it — QoS and
 * retain included — which a subscriber could not see (brokers clear retain on live forwarding).
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import { deviceTopic, groupTopic, parseTopic, type DeviceConfig, type PlayItem } from '../../schemas/device-protocol/index.ts';
import { SimCluster, type SimClusterOptions } from '../src/index.ts';

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
          void this.publish(deviceTopic(t.clusterId, 'time/res'), { id: req.id, t0: req.t0, t1: stamp, t2: this.trueNow() }, { qos: 0 });
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

  /** A manifest update on the cluster's own topic (QoS 1, not retained). */
  sendManifest(clusterId: string, m: { version: number; baseVersion: number; items: unknown[]; removed?: string[] }): Promise<void> {
    return this.publish(deviceTopic(clusterId, 'manifest'), { removed: [], ...m }, { qos: 1 });
  }

  /** A group play order (`play` with an item, or `cancel` of a broadcast). */
  sendGroupPlay(groupId: string, order: { op: 'play'; item: unknown } | { op: 'cancel'; broadcastId: string }): Promise<void> {
    return this.publish(groupTopic(groupId, 'play'), order, { qos: 1 });
  }

  /** Airing reports of a cluster, parsed, oldest first. */
  airings(clusterId: string): any[] {
    return this.from(clusterId, 'airing').map((p) => p.json);
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

export interface ContentRequest {
  user: string | null;
  sha256: string;
  range: string | null;
  status: number;
  bytes: number;
  at: number;
}

/**
 * The server's content endpoint, as docs/device-protocol.md §9 describes it: GET /api/device/content/{sha256} with
 * HTTP Basic (cluster id, secret), single byte ranges (206 + Content-Range, 416 past the end), ETag = sha256.
 * Fault knobs: cut the body after N bytes, delay responses, answer with an error status.
 */
export class ContentServer {
  readonly files = new Map<string, Buffer>();
  readonly requests: ContentRequest[] = [];
  /** Credentials accepted; when empty, any user with any password passes (but a header is still required). */
  readonly secrets = new Map<string, string>();
  url = '';
  /** Destroy the socket after this many body bytes, for the next `cutTimes` responses. */
  cutAfterBytes = 0;
  cutTimes = 0;
  /** Hold each response this long. */
  delayMs = 0;
  /** Answer range requests with the whole file (200), as a server or proxy that ignores Range may. */
  ignoreRanges = false;
  /** Answer the next `failTimes` requests with this status. */
  failStatus = 503;
  failTimes = 0;

  private constructor(private readonly server: HttpServer) {}

  static async start(): Promise<ContentServer> {
    let self!: ContentServer;
    const server = createHttpServer((req, res) => self.handle(req, res));
    self = new ContentServer(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return self;
  }

  /** Serve `bytes`; returns the content descriptor a PlayItem carries (durationMs is the caller's). */
  add(bytes: Buffer): { sha256: string; size: number } {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.files.set(sha256, bytes);
    return { sha256, size: bytes.length };
  }

  /** A file of `size` deterministic pseudo-random bytes. */
  addRandom(size: number, seed = 1): { sha256: string; size: number } {
    const b = Buffer.alloc(size);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return this.add(b);
  }

  forSha(sha256: string): ContentRequest[] {
    return this.requests.filter((r) => r.sha256 === sha256);
  }

  private handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
    const m = /^\/api\/device\/content\/([^/?]+)$/.exec(req.url ?? '');
    const rec: ContentRequest = { user: null, sha256: m?.[1] ?? '', range: (req.headers.range as string) ?? null, status: 0, bytes: 0, at: Date.now() };
    this.requests.push(rec);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: Buffer) => {
      rec.status = status;
      const go = () => {
        res.writeHead(status, headers);
        if (!body) return void res.end();
        if (this.cutTimes > 0 && this.cutAfterBytes > 0 && body.length > this.cutAfterBytes) {
          this.cutTimes--;
          rec.bytes = this.cutAfterBytes;
          res.write(body.subarray(0, this.cutAfterBytes), () => setTimeout(() => res.socket?.destroy(), 10));
          return;
        }
        rec.bytes = body.length;
        res.end(body);
      };
      if (this.delayMs) setTimeout(go, this.delayMs);
      else go();
    };
    const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [user, pass] = auth ? Buffer.from(auth[1], 'base64').toString().split(':') : [null, null];
    rec.user = user ?? null;
    const want = user ? this.secrets.get(user) : undefined;
    if (!user || (this.secrets.size > 0 && want !== pass)) return send(401, { 'www-authenticate': 'Basic realm="loa-device"' });
    if (this.failTimes > 0) {
      this.failTimes--;
      return send(this.failStatus);
    }
    if (!m || !/^[a-f0-9]{64}$/.test(m[1])) return send(400);
    const file = this.files.get(m[1]);
    if (!file) return send(404, { 'content-type': 'application/json' }, Buffer.from('{"statusCode":404,"error":"Not Found","message":"content not found"}'));
    const base = { 'accept-ranges': 'bytes', etag: `"${m[1]}"`, 'content-type': 'application/octet-stream' };
    const range = this.ignoreRanges ? null : /^bytes=(\d+)-$/.exec(rec.range ?? '');
    if (range) {
      const start = Number(range[1]);
      if (start >= file.length) return send(416, { ...base, 'content-range': `bytes */${file.length}` });
      const body = file.subarray(start);
      return send(206, { ...base, 'content-length': body.length, 'content-range': `bytes ${start}-${file.length - 1}/${file.length}` }, body);
    }
    send(200, { ...base, 'content-length': file.length }, file);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
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

/** A cluster on the test broker and content server that reconnects at once (50 ms, no jitter); `extra` overrides. */
export function testCluster(broker: TestBroker, http: ContentServer, id: string, extra: Partial<SimClusterOptions> = {}): SimCluster {
  return new SimCluster({ url: broker.url, id, secret: SECRET, outputs: OUTPUTS, httpUrl: http.url, reconnectPeriodMs: 50, reconnectJitter: 0, ...extra });
}
export const OUTPUTS = [
  { index: 0, label: 'Hướng chợ', ratedW: 50 },
  { index: 1, label: 'Hướng trường', ratedW: 50 },
];

let itemCounter = 0;

/**
 * A play item for `content` (from ContentServer.add): normal level, as soon as possible, one airing of 300 ms,
 * expiring in a minute. `now` is the server clock the times are relative to (the broker's trueNow).
 */
export function playItem(
  content: { sha256: string; size: number },
  over: Partial<Omit<PlayItem, 'content'>> & { durationMs?: number } = {},
  now: number = Date.now(),
): PlayItem {
  const { durationMs = 300, ...rest } = over;
  const id = rest.id ?? `it-${Date.now().toString(36)}-${++itemCounter}`;
  return {
    id,
    broadcastId: rest.broadcastId ?? id,
    level: 'normal',
    content: { sha256: content.sha256, size: content.size, durationMs },
    startAt: null,
    expiresAt: Math.round(now + 60_000),
    volume: null,
    outputs: null,
    repeat: { count: 1, intervalS: 0 },
    onPreempt: 'resume',
    ...rest,
  };
}
