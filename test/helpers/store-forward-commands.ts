/**
 * The sequences a store-and-forward property runs (helpers/store-forward-model.ts): a small fleet, the commands
 * fast-check draws, what each does, and the check at the end of a sequence.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { CreateBroadcast } from '../../schemas/api/broadcasts.ts';
import type { PlayItem } from '../../schemas/device-protocol/playback.ts';
import { createDb } from '../../server/src/db/client.ts';
import { systemActor } from '../../server/src/shared/actor.ts';
import { AppError } from '../../server/src/shared/errors.ts';
import { fakeClock, ingestTone, servicesOn } from './services.ts';
import { StoreForwardModel } from './store-forward-model.ts';

/** province ⊃ commune A ⊃ hamlet A1, and commune B */
const AREAS = [
  { id: 'tinh', name: 'Tỉnh', kind: 'province' as const },
  { id: 'xa-a', name: 'Xã A', kind: 'commune' as const, parentId: 'tinh' },
  { id: 'thon-a1', name: 'Thôn A1', kind: 'hamlet' as const, parentId: 'xa-a' },
  { id: 'xa-b', name: 'Xã B', kind: 'commune' as const, parentId: 'tinh' },
];
/** home area of each cluster (two outputs each) */
const HOMES = ['xa-a', 'xa-a', 'thon-a1', 'xa-b'];
/** the clusters under each area */
const UNDER: Record<string, number[]> = { tinh: [0, 1, 2, 3], 'xa-a': [0, 1, 2], 'thon-a1': [2], 'xa-b': [3] };
export const CLUSTERS = HOMES.map((_, i) => i);
const MIN = 60_000;
const HOUR = 3_600_000;

export type Cmd =
  | { op: 'create'; level: 'normal' | 'priority' | 'emergency'; areas: number[]; clusters: number[]; outputs: { c: number; outs: number[] }[]; startIn: number; lastsMs: number | null; tone: number; repeat: number }
  | { op: 'cancel'; pick: number }
  | { op: 'advance'; ms: number }
  | { op: 'prune' }
  | { op: 'offline'; c: number }
  | { op: 'online'; c: number }
  | { op: 'reboot'; c: number; flashLost: boolean }
  | { op: 'restart' }
  /** the broker hands `n` queued messages to cluster `c` */
  | { op: 'deliver'; c: number; n: number }
  /** the server handles `n` queued device publishes */
  | { op: 'serve'; n: number }
  | { op: 'settle' };

const cluster = fc.constantFrom(...CLUSTERS);
const create = fc
  .record({
    op: fc.constant('create' as const),
    level: fc.constantFrom('normal' as const, 'priority' as const, 'emergency' as const),
    areas: fc.subarray(AREAS.map((_, i) => i)),
    clusters: fc.subarray(CLUSTERS),
    outputs: fc.array(fc.record({ c: cluster, outs: fc.subarray([0, 1], { minLength: 1 }) }), { maxLength: 2 }),
    // now, soon, or beyond the 48 h window (delivered by deliverDue as time goes by)
    startIn: fc.constantFrom(0, 10 * MIN, 50 * HOUR),
    lastsMs: fc.constantFrom(null, 30 * MIN, 4 * HOUR),
    tone: fc.constantFrom(0, 1),
    repeat: fc.integer({ min: 1, max: 3 }),
  })
  .filter((c) => c.areas.length + c.clusters.length + c.outputs.length > 0);

export const command: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: create, weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }), weight: 2 },
  // mostly short steps, so that sequences end with items still live; now and then past every expiry (and the window)
  { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof({ arbitrary: fc.constantFrom(MIN, 5 * MIN), weight: 3 }, fc.constantFrom(20 * MIN, 3 * HOUR, 30 * HOUR)) }), weight: 2 },
  { arbitrary: fc.constant({ op: 'prune' as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('offline' as const), c: cluster }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('online' as const), c: cluster }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('reboot' as const), c: cluster, flashLost: fc.boolean() }), weight: 2 },
  { arbitrary: fc.constant({ op: 'restart' as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('deliver' as const), c: cluster, n: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('serve' as const), n: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
  { arbitrary: fc.constant({ op: 'settle' as const }), weight: 2 },
);

const actor = systemActor('test');

/** A database with the fleet and two tones, copied for every sequence (ingesting through ffmpeg takes a second). */
export interface Fleet {
  dir: string;
  template: string;
  clusterIds: string[];
  tones: string[];
  runs: number;
}

export async function buildFleet(): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-sf-prop-'));
  const template = join(dir, 'template.sqlite');
  const db = createDb(template);
  const s = await servicesOn(db, dir, fakeClock(), { publish: async () => undefined });
  for (const a of AREAS) await s.areas.create(a);
  const outputs = [{ index: 0, label: 'Loa 1' }, { index: 1, label: 'Loa 2' }];
  const clusterIds = (await s.clusters.create(HOMES.map((areaId, i) => ({ name: `Cụm ${i + 1}`, areaId, serial: `SF-${i + 1}`, outputs })), actor)).map((c) => c.clusterId);
  const tones = [(await ingestTone(s, dir, actor, 1, 440)).id, (await ingestTone(s, dir, actor, 2, 660)).id];
  await s.content.drain();
  await db.close();
  return { dir, template, clusterIds, tones, runs: 0 };
}

export function removeFleet(f: Fleet): void {
  rmSync(f.dir, { recursive: true, force: true });
}

/** A broadcast as the test sent it: what each cluster must end up holding, worked out without the server. */
interface Sent {
  id: string;
  startAt: number;
  expiresAt: number;
  /** cluster index → outputs (null: all) */
  targets: Map<number, number[] | null>;
  cancelled: boolean;
}

function targetsOf(cmd: Extract<Cmd, { op: 'create' }>): Map<number, number[] | null> {
  const t = new Map<number, number[] | null>();
  for (const a of cmd.areas) for (const c of UNDER[AREAS[a].id]) t.set(c, null);
  for (const c of cmd.clusters) t.set(c, null);
  for (const o of cmd.outputs) {
    const had = t.get(o.c);
    if (had !== null) t.set(o.c, [...new Set([...(had ?? []), ...o.outs])].sort());
  }
  return t;
}

async function apply(f: Fleet, m: StoreForwardModel, cmd: Cmd, created: Sent[]): Promise<void> {
  const d = 'c' in cmd ? m.devices[cmd.c] : null;
  switch (cmd.op) {
    case 'create': {
      const start = cmd.startIn ? m.clock.t + cmd.startIn : null;
      const input: CreateBroadcast = {
        title: `Bản tin ${created.length + 1}`,
        level: cmd.level,
        source: { contentId: f.tones[cmd.tone] },
        targets: {
          ...(cmd.areas.length ? { areaIds: cmd.areas.map((i) => AREAS[i].id) } : {}),
          ...(cmd.clusters.length ? { clusterIds: cmd.clusters.map((i) => f.clusterIds[i]) } : {}),
          ...(cmd.outputs.length ? { outputs: cmd.outputs.map((o) => ({ clusterId: f.clusterIds[o.c], outputs: o.outs })) } : {}),
        },
        ...(start ? { startAt: new Date(start).toISOString() } : {}),
        ...(cmd.lastsMs ? { expiresAt: new Date((start ?? m.clock.t) + cmd.lastsMs).toISOString() } : {}),
        repeat: { count: cmd.repeat, intervalS: 600 },
      };
      const b = await m.s.broadcasts.create(input, actor);
      created.push({ id: b.id, startAt: Date.parse(b.startAt!), expiresAt: Date.parse(b.expiresAt!), targets: targetsOf(cmd), cancelled: false });
      return;
    }
    case 'cancel':
      if (!created.length) return;
      try {
        const b = created[cmd.pick % created.length];
        await m.s.broadcasts.cancel(b.id, actor);
        b.cancelled = true;
      } catch (e) {
        // already cancelled, or over
        if (!(e instanceof AppError && e.statusCode === 409)) throw e;
      }
      return;
    case 'advance':
      // What the server's jobs (server/src/jobs.ts) and the devices' expiry timers do as time passes.
      m.clock.t += cmd.ms;
      await m.s.broadcasts.progress();
      await m.s.broadcasts.deliverDue();
      m.tick();
      return;
    case 'prune':
      await m.s.manifests.prune();
      return;
    case 'offline':
      return m.disconnect(d!);
    case 'online':
      return m.connect(d!);
    case 'reboot':
      return m.reboot(d!, cmd.flashLost);
    case 'restart':
      return m.restartServer();
    case 'deliver':
      for (let i = 0; i < cmd.n; i++) d!.receive();
      return;
    case 'serve':
      for (let i = 0; i < cmd.n; i++) await m.serve();
      return;
    case 'settle':
      return m.settle();
  }
}

const byId = (items: PlayItem[]) => [...items].sort((a, b) => a.id.localeCompare(b.id));
const WINDOW_MS = 48 * HOUR;

/** What cluster `c` must hold at `now`: every broadcast to it not cancelled, not expired, within the 48 h window. */
function expected(created: Sent[], c: number, now: number): { id: string; outputs: number[] | null }[] {
  return created
    .filter((b) => b.targets.has(c) && !b.cancelled && b.expiresAt > now && b.startAt <= now + WINDOW_MS)
    .map((b) => ({ id: b.id, outputs: b.targets.get(c)! }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

export interface RunOptions {
  groupsOnConnect: boolean;
  flashLossWipesConfig: boolean;
  /** Clusters that connect for the first time only when the sequence (or its end) brings them online. */
  fresh: boolean;
}

/**
 * One sequence on a fresh copy of the fleet: every cluster connects once and settles (unless `fresh`), those not
 * in `online` go offline, the commands run, then every cluster comes online and the exchange settles. Then each
 * cluster must hold exactly the live items of its manifest on the server, and those must be what the test sent it
 * (so a broadcast the server itself lost, in a crash say, fails too).
 */
export async function runSequence(f: Fleet, o: RunOptions, online: number[], cmds: Cmd[]): Promise<void> {
  const file = join(f.dir, `run-${++f.runs}.sqlite`);
  copyFileSync(f.template, file);
  const m = new StoreForwardModel(file, f.dir, fakeClock(), f.clusterIds, o);
  await m.start();
  try {
    for (const d of m.devices) if (!o.fresh || online.includes(d.index)) m.connect(d);
    await m.settle();
    for (const d of m.devices) if (!online.includes(d.index)) m.disconnect(d);
    const created: Sent[] = [];
    for (const cmd of cmds) await apply(f, m, cmd, created);
    for (const d of m.devices) m.connect(d);
    await m.settle();
    for (const d of m.devices) {
      const want = byId((await m.snapshot(d.clusterId)).items);
      expect(want.map((i) => ({ id: i.id, outputs: i.outputs })), `the server's manifest of cluster ${d.index} (${d.clusterId})`).toEqual(expected(created, d.index, m.clock.t));
      expect(byId(d.live(m.clock.t)), `cluster ${d.index} (${d.clusterId}) holds what the server's manifest says`).toEqual(want);
    }
  } finally {
    await m.close();
  }
}
