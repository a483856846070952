/**
 * A model of store-and-forward (docs/device-protocol.md §10.1, §10.2) for property tests: the real server services
 * over a real SQLite file, and per cluster the simulator's real Playback (manifest store, group play orders) behind a
 * fake broker that delivers only what a device would receive — its own topics while connected, a group's `play`
 * while it holds that group's subscription on the current connection. Everything is queued, nothing is delivered
 * synchronously: tests interleave deliveries with server actions to explore the races of a real broker.
 *
 * What it models of the broker and the devices:
 *  - clean sessions: whatever is queued for a device when it disconnects is lost; nothing reaches it while offline;
 *  - on connect the device subscribes its own topics, gets the retained `config` (if the broker holds one), and
 *    publishes its birth with the manifest version it holds; the server answers a birth with `config` (retained)
 *    and a manifest push (server/src/mqtt/device-handlers.ts);
 *  - group subscriptions: with `groupsOnConnect` a device holding a configuration subscribes its groups alongside
 *    its own topics, before its birth (§10.2 "on every connect"); without, it waits for a `config` message, as the
 *    simulator does (firmware-sim/src/cluster-inbound.ts applyConfig → groups.ts). Either way a `config` naming
 *    groups not yet subscribed costs one more trip to the broker (a SUBSCRIBE), and group publishes reach the device
 *    only once the broker has taken it;
 *  - the configuration is kept across reboots; `flashLossWipesConfig` makes a flash loss take it too;
 *  - the broker and its retained messages live in the server process: a server restart drops every connection and
 *    every retained config, and devices reconnect on their own.
 */
import { rmSync } from 'node:fs';
import type { GroupPlay, Manifest, PlayItem } from '../../schemas/device-protocol/playback.ts';
import type { Decoded } from '../../schemas/device-protocol/codec.ts';
import { parseTopic } from '../../schemas/device-protocol/topics.ts';
import { createDb, type Db } from '../../server/src/db/client.ts';
import type { Publisher } from '../../server/src/mqtt/publisher.ts';
import type { Services } from '../../server/src/services.ts';
import { DeviceClock, Playback, silentLogger, type Scheduler } from '../../firmware-sim/src/index.ts';
import type { PlaybackHost } from '../../firmware-sim/src/playback.ts';
import { ContentCache } from '../../firmware-sim/src/content-cache.ts';
import { codec, newCounters } from '../../firmware-sim/src/cluster-types.ts';
import { servicesOn, type FakeClock } from './services.ts';

type Down = { kind: 'manifest'; m: Manifest } | { kind: 'group'; order: GroupPlay } | { kind: 'config'; groups: string[] };
type Up = { c: number; kind: 'birth' | 'req'; version: number } | { c: number; kind: 'subscribe'; conn: number; groups: string[] };

/** Timers never fire: content never arrives, so nothing airs and an item stays held until it expires or goes. */
const FROZEN: Scheduler = { every: () => () => undefined, after: () => () => undefined };

/** A contract violation seen while the sequence ran (the property fails on the first). */
export class ModelViolation extends Error {}

export class ModelDevice {
  pb!: Playback;
  connected = false;
  /** Connection generation: a SUBSCRIBE sent on an earlier connection grants nothing on this one. */
  conn = 0;
  /** Group ids subscribed on the current connection (granted by the broker). */
  groups = new Set<string>();
  inbox: Down[] = [];
  /** Highest manifest version held in this flash life. */
  held = 0;
  /** Groups of the configuration held (null: never had one). */
  config: string[] | null = null;

  constructor(
    readonly index: number,
    readonly clusterId: string,
    private readonly clock: FakeClock,
    private readonly up: (u: Up) => void,
  ) {
    this.boot();
  }

  /** Power on with an empty manifest store. */
  boot(): void {
    this.pb?.halt();
    const host: PlaybackHost = {
      clusterId: this.clusterId,
      clock: new DeviceClock({ trueNow: () => this.clock.t }),
      log: silentLogger,
      counters: newCounters(),
      offset: () => 0,
      syncPending: () => false,
      emergencyVolume: () => 100,
      report: () => undefined,
      requestManifest: (version) => this.connected && this.up({ c: this.index, kind: 'req', version }),
      setPlaying: () => undefined,
      itemAccepted: () => undefined,
      started: () => undefined,
      streamPage: () => undefined,
    };
    this.pb = new Playback(host, {
      clusterId: this.clusterId,
      secret: 'unused',
      mode: 'assume',
      cache: new ContentCache(),
      sharedDownloads: false,
      assumeDelayMs: 0,
      retry: { initialMs: 2000, maxMs: 60_000, jitter: 0.3 },
      timeoutMs: 30_000,
      sched: FROZEN,
      random: Math.random,
      linkUp: () => this.connected,
    });
    this.pb.powerUp();
    this.held = 0;
  }

  /** Items held that have not expired (server time = device time: the offset is 0). */
  live(now: number): PlayItem[] {
    return this.pb.items.filter((i) => i.expiresAt > now);
  }

  /** Applies the next message queued for it; false if none. */
  receive(): boolean {
    const d = this.inbox.shift();
    if (!d) return false;
    if (d.kind === 'manifest') {
      this.pb.onManifest(d.m);
      if (this.pb.manifestVersion < this.held) throw new ModelViolation(`cluster ${this.index} went back from manifest version ${this.held} to ${this.pb.manifestVersion}`);
      this.held = this.pb.manifestVersion;
    } else if (d.kind === 'group') this.pb.onGroupPlay(d.order);
    else {
      this.config = d.groups;
      const missing = d.groups.filter((g) => !this.groups.has(g));
      if (missing.length) this.up({ c: this.index, kind: 'subscribe', conn: this.conn, groups: missing });
    }
    return true;
  }
}

/** Server + fake broker + devices; `sentVersion` and `contents` check what the server sends each cluster. */
export class StoreForwardModel {
  s!: Services;
  private db!: Db;
  readonly devices: ModelDevice[];
  private up: Up[] = [];
  /** Retained `config` per cluster index (groups), as the in-process broker holds it. */
  private retained = new Map<number, string[]>();
  private readonly byId: Map<string, ModelDevice>;
  /** Last manifest version sent to each cluster, across restarts. */
  private sentVersion = new Map<string, number>();
  /** What the server's manifest of a cluster held when it sent version V: `${clusterId}#${V}` → item id → JSON. */
  private contents = new Map<string, Map<string, string>>();

  constructor(
    private readonly dbFile: string,
    private readonly dataDir: string,
    readonly clock: FakeClock,
    clusterIds: string[],
    private readonly opts: { groupsOnConnect: boolean; flashLossWipesConfig: boolean },
  ) {
    this.devices = clusterIds.map((id, i) => new ModelDevice(i, id, clock, (u) => this.up.push(u)));
    this.byId = new Map(this.devices.map((d) => [d.clusterId, d]));
  }

  /** The server's first start, on the model's database. */
  start(): Promise<void> {
    return this.startServer();
  }

  private readonly publisher: Publisher = {
    publish: async (topic, payload) => this.route(topic, payload),
  };

  private async startServer(): Promise<void> {
    this.db = createDb(this.dbFile);
    this.s = await servicesOn(this.db, this.dataDir, this.clock, this.publisher);
  }

  /**
   * The server process dies and starts again on the same database: the broker (connections, retained) goes with it,
   * and so does whatever the server had not yet done (work it deferred is never run: its database is closed). The
   * new process does what server/src/app.ts does when ready, before devices reconnect.
   */
  async restartServer(): Promise<void> {
    await this.db.close();
    const wasConnected = this.devices.filter((d) => d.connected);
    for (const d of this.devices) this.disconnect(d);
    this.up = [];
    this.retained.clear();
    await this.startServer();
    await this.s.broadcasts.deliverDue();
    for (const d of wasConnected) this.connect(d);
  }

  connect(d: ModelDevice): void {
    if (d.connected) return;
    d.connected = true;
    d.conn++;
    d.groups.clear();
    d.inbox = [];
    if (this.opts.groupsOnConnect && d.config) for (const g of d.config) d.groups.add(g);
    const groups = this.retained.get(d.index);
    if (groups) d.inbox.push({ kind: 'config', groups });
    this.up.push({ c: d.index, kind: 'birth', version: d.pb.manifestVersion });
  }

  disconnect(d: ModelDevice): void {
    d.connected = false;
    d.groups.clear();
    d.inbox = [];
  }

  /** Reboot: the link goes and comes back; with `flashLost` the device starts with no manifest (version 0). */
  reboot(d: ModelDevice, flashLost: boolean): void {
    this.disconnect(d);
    if (flashLost) {
      d.boot();
      if (this.opts.flashLossWipesConfig) d.config = null;
    } else {
      d.pb.powerDown();
      d.pb.powerUp();
    }
    this.connect(d);
  }

  /** The server handles the oldest device publish (birth, manifest/req, or the broker a SUBSCRIBE); false if none. */
  async serve(): Promise<boolean> {
    const u = this.up.shift();
    if (!u) return false;
    const d = this.devices[u.c];
    if (u.kind === 'subscribe') {
      if (d.connected && d.conn === u.conn) {
        for (const g of u.groups) d.groups.add(g);
        // As device-handlers.ts: a granted group `play` topic gets the cluster what changed since its last manifest.
        if (u.groups.length) await this.s.manifests.catchUp(d.clusterId);
      }
    } else {
      // As server/src/mqtt/device-handlers.ts: a birth gets the config, then the manifest; a req the manifest.
      const pushes: Promise<void>[] = [];
      if (u.kind === 'birth') pushes.push(this.s.deviceConfig.push(d.clusterId));
      pushes.push(this.s.manifests.push(d.clusterId, u.version));
      await Promise.all(pushes);
    }
    return true;
  }

  /**
   * Delivers everything in flight, in turns, until nothing moves — including what the server does after answering
   * (work it defers to a later turn of the event loop, e.g. a fan-out's per-cluster pushes).
   */
  async settle(): Promise<void> {
    for (let guard = 0; guard < 10_000; guard++) {
      if (await this.serve()) continue;
      const d = this.devices.find((x) => x.inbox.length);
      if (d) {
        d.receive();
        continue;
      }
      await turns(3);
      if (!this.up.length && !this.devices.some((x) => x.inbox.length)) return;
    }
    throw new ModelViolation('the exchange between server and devices never settles');
  }

  /** Every device ticks (its expiry timer fired). */
  tick(): void {
    for (const d of this.devices) d.pb.tick();
  }

  /** Server's manifest of a cluster now: the snapshot a device holding nothing would get. */
  snapshot(clusterId: string): Promise<Manifest> {
    return this.s.manifests.delta(clusterId, 0);
  }

  async close(): Promise<void> {
    for (const d of this.devices) d.pb.halt();
    await this.s.content.drain();
    await this.db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.dbFile + suffix, { force: true });
  }

  // ---- the fake broker ------------------------------------------------------------------------------------------

  private async route(topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic);
    if (t?.kind === 'group') {
      if (t.channel !== 'play') return;
      const order = decode(codec.groupPlay, payload, topic);
      for (const d of this.devices) if (d.connected && d.groups.has(t.groupId)) d.inbox.push({ kind: 'group', order });
      return;
    }
    if (t?.kind !== 'device') return;
    const d = this.byId.get(t.clusterId);
    if (!d) throw new ModelViolation(`publish to unknown cluster ${t.clusterId}`);
    if (t.channel === 'config') {
      const { groups } = decode(codec.config, payload, topic);
      this.retained.set(d.index, groups);
      if (d.connected) d.inbox.push({ kind: 'config', groups });
    } else if (t.channel === 'manifest') {
      const m = decode(codec.manifest, payload, topic);
      if (d.connected) d.inbox.push({ kind: 'manifest', m });
      await this.checkVersion(d.clusterId, m); // the server's manifests are read asynchronously: after the delivery, in the same order
    }
  }

  /**
   * Versions sent to a cluster never decrease, and one version never stands for two different manifests: what the
   * server holds for the cluster when it sends version V is the same every time it sends V (items that expired in
   * between aside — a device drops those on its own).
   */
  private async checkVersion(clusterId: string, m: Manifest): Promise<void> {
    const last = this.sentVersion.get(clusterId) ?? 0;
    if (m.version < last) throw new ModelViolation(`${clusterId}: sent version ${m.version} after ${last}`);
    this.sentVersion.set(clusterId, m.version);
    const now = this.clock.t;
    const snap = await this.snapshot(clusterId);
    if (snap.version !== m.version) return; // moved on since (a deferred publish): nothing to compare against
    const items = new Map(snap.items.map((i) => [i.id, JSON.stringify(i)]));
    const key = `${clusterId}#${m.version}`;
    const before = this.contents.get(key);
    if (!before) return void this.contents.set(key, items);
    const still = [...before].filter(([, json]) => (JSON.parse(json) as PlayItem).expiresAt > now);
    const same = still.length === items.size && still.every(([id, json]) => items.get(id) === json);
    if (!same) {
      throw new ModelViolation(`${clusterId}: version ${m.version} sent for two manifests: [${still.map(([id]) => id)}] then [${[...items.keys()]}]`);
    }
  }
}

function decode<T>(c: { decode(p: Buffer): Decoded<T> }, payload: Buffer, topic: string): T {
  const d = c.decode(payload);
  if (!d.ok) throw new ModelViolation(`server sent an invalid payload on ${topic}: ${d.error}`);
  return d.value;
}

/** A few turns of the event loop: what the server deferred (setImmediate, resolved promises) has run. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
