/**
 * Planner and timetable benchmark (issue 11): materialise 48 hours of programmes for 1,000 clusters, and read the
 * 7-day timetable of the commune and of one cluster (target < 100 ms).
 *
 *   npx tsx bench/planner.ts                                   # both scenarios, 5 cold samples each
 *   npm run bench -- planner --scenarios shared --samples 7    # the same through bench/run.ts
 *   npx tsx bench/planner.ts --scenarios per-cluster --samples 1 --profile cold,tt-area
 *
 * In one process, at service level (no HTTP, no broker): the services of the server (`createServices`) over a real
 * SQLite file (WAL, as the product runs), a fake clock, and a publisher that counts what would be published and
 * discards it. The fleet: one commune (quiet hours 21:00–05:00) of `--hamlets` hamlets, `--clusters` clusters with
 * two outputs each, one content item (a sine tone through the real ffmpeg pipeline).
 *
 * Scenarios:
 *   shared       `--programmes` programmes, each targeting the whole commune (one group publish per occurrence):
 *                daily, weekdays, weekends, Mon/Wed/Fri, lunar 1st and 15th, an RRULE, at different times; three of
 *                them share a time with another and have onClash 'shift'. Created through ProgrammesService.create
 *                (checks and all), timed.
 *   per-cluster  the same `--programmes` schedules once per cluster, each targeting that single cluster:
 *                clusters × programmes programmes (20,000 by default), each occurrence a broadcast with a manifest row,
 *                an airing row and a manifest push of its own. Written straight through ProgrammesRepo (the rows
 *                ProgrammesService.create writes, approved) because saving them one by one through the service
 *                reloads the whole catalog per save; one save through the service at that size is timed instead.
 *
 * Per scenario the fleet and programmes are built once into a template database file; every sample copies it
 * (a fresh database per cold run) and measures, on the fake clock:
 *   cold     catalog load (programmes resolved), Planner.run() over the 48 h horizon, then Backlog.settle() — the
 *            deferred manifest rows, airing log and per-cluster manifest pushes of every delivery (part of the cost);
 *   idle     a second run() + settle() straight after (nothing to do: the idempotence cost);
 *   tt-*     TimetableService.query for 7 days from the start of today, for the commune and for one cluster,
 *            `--queries` times each (median), plus JSON.stringify of the answer (what the HTTP layer adds, roughly);
 *   roll     the clock moved 24 h, run() + settle() (the rolling day), and the commune timetable again.
 * Medians over the samples (per sample the median of its queries). `--profile <phases>` writes a V8 CPU profile of
 * those phases of the first sample (bench/results/planner-<stamp>-logs/) and prints self and inclusive time.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { ProgrammeInput } from '../schemas/api/programmes.ts';
import type { Recurrence } from '../schemas/api/recurrence.ts';
import { loadConfig } from '../server/src/config.ts';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { createDb } from '../server/src/db/client.ts';
import type { Publisher } from '../server/src/mqtt/publisher.ts';
import { ProgrammesRepo } from '../server/src/programmes/programmes.repo.ts';
import { createServices, type Services } from '../server/src/services.ts';
import { systemActor, type Actor } from '../server/src/shared/actor.ts';
import { ROOT, guardChildren, makeTempDir, removeTempDir, resultsFiles, runMain, startWatchdog } from './harness.ts';
import { printSummary, summarise } from './profile.ts';
import { median } from './stats.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);
const H = 3_600_000;

// ---------------------------------------------------------------- options

type Scenario = 'shared' | 'per-cluster';
const PHASES = ['cold', 'idle', 'tt-area', 'tt-cluster', 'roll'] as const;
type Phase = (typeof PHASES)[number];

interface Options {
  scenarios: Scenario[];
  clusters: number;
  hamlets: number;
  programmes: number;
  samples: number;
  queries: number;
  toneS: number;
  start: string;
  profile: Phase[];
  maxMinutes: number;
  out: string | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    scenarios: ['shared', 'per-cluster'],
    clusters: 1000,
    hamlets: 10,
    programmes: 20,
    samples: 5,
    queries: 15,
    toneS: 120,
    // Monday 07:00 in Vietnam, on the 15th of the lunar month (rằm tháng 10): the lunar programmes air in the window
    start: '2026-11-23T00:00:00Z',
    profile: [],
    maxMinutes: 60,
    out: null,
  };
  const num = (v: string | undefined, name: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 1) throw new Error(`${name} needs a positive number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case '--scenarios': o.scenarios = val().split(',').map((s) => { if (s !== 'shared' && s !== 'per-cluster') throw new Error(`unknown scenario ${s}`); return s; }); break;
      case '--clusters': o.clusters = num(val(), flag); break;
      case '--hamlets': o.hamlets = num(val(), flag); break;
      case '--programmes': o.programmes = Math.min(20, num(val(), flag)); break;
      case '--samples': o.samples = num(val(), flag); break;
      case '--queries': o.queries = num(val(), flag); break;
      case '--tone-s': o.toneS = num(val(), flag); break;
      case '--start': o.start = new Date(val()).toISOString(); break;
      case '--profile': o.profile = val().split(',').map((p) => { if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--profile takes ${PHASES.join(',')}`); return p as Phase; }); break;
      case '--max-minutes': o.maxMinutes = num(val(), flag); break;
      case '--out': o.out = val(); break;
      case '--quick':
        o.clusters = 200;
        o.samples = 3;
        o.queries = 5;
        o.toneS = 10;
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'npx tsx bench/planner.ts [--scenarios shared,per-cluster] [--clusters 1000] [--hamlets 10] [--programmes 20 (≤ 20)]\n' +
            '  [--samples 5] [--queries 15] [--tone-s 120] [--start 2026-11-23T00:00:00Z] [--profile cold,idle,tt-area,tt-cluster,roll]\n' +
            '  [--max-minutes 60] [--out file.json] [--quick]\n',
        );
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- fixture

/** The schedules of the programmes, in the commune's wall clock; `shift` ones share a time with the one before. */
const SLOTS: { name: string; time: string; recurrence: Recurrence; from?: string; onClash?: 'shift' }[] = [
  { name: 'Bản tin sáng', time: '05:30', recurrence: { kind: 'daily' } },
  { name: 'Thông báo sáng', time: '05:30', recurrence: { kind: 'daily' }, onClash: 'shift' },
  { name: 'Thời sự', time: '06:00', recurrence: { kind: 'daily' } },
  { name: 'Khuyến nông', time: '06:30', recurrence: { kind: 'weekly', weekdays: [1, 2, 3, 4, 5] } },
  { name: 'Pháp luật', time: '07:00', recurrence: { kind: 'weekly', weekdays: [1, 2, 3, 4, 5] } },
  { name: 'Cuối tuần', time: '07:00', recurrence: { kind: 'weekly', weekdays: [6, 7] } },
  { name: 'Tin trưa', time: '11:00', recurrence: { kind: 'daily' } },
  { name: 'Lịch cúp điện', time: '11:00', recurrence: { kind: 'daily' }, onClash: 'shift' },
  { name: 'Y tế', time: '11:30', recurrence: { kind: 'weekly', weekdays: [1, 3, 5] } },
  { name: 'Giáo dục', time: '11:30', recurrence: { kind: 'weekly', weekdays: [2, 4] } },
  { name: 'Nhạc trưa', time: '12:00', recurrence: { kind: 'daily' } },
  { name: 'An toàn giao thông', time: '16:30', recurrence: { kind: 'weekly', weekdays: [1, 2, 3, 4, 5] } },
  { name: 'Tin chiều', time: '17:00', recurrence: { kind: 'daily' } },
  { name: 'Thông báo chiều', time: '17:00', recurrence: { kind: 'daily' }, onClash: 'shift' },
  { name: 'Thời tiết', time: '17:30', recurrence: { kind: 'daily' } },
  { name: 'Dân số', time: '18:00', recurrence: { kind: 'rrule', rule: 'FREQ=WEEKLY;BYDAY=MO,WE,FR' }, from: '2026-11-02' },
  { name: 'Mùng một, ngày rằm', time: '18:30', recurrence: { kind: 'lunar', days: [1, 15] } },
  { name: 'Văn hoá', time: '19:00', recurrence: { kind: 'weekly', weekdays: [2, 4, 6] } },
  { name: 'Tin tối', time: '19:30', recurrence: { kind: 'daily' } },
  { name: 'Lễ hội', time: '20:00', recurrence: { kind: 'lunar', days: [14, 15, 16] } },
];

/** Counts what would be published and drops it: no broker in this bench. */
class CountingPublisher implements Publisher {
  group = 0;
  direct = 0;
  bytes = 0;
  async publish(topic: string, payload: Buffer): Promise<void> {
    if (topic.includes('/grp/')) this.group++;
    else this.direct++;
    this.bytes += payload.length;
  }
  reset(): void {
    this.group = this.direct = this.bytes = 0;
  }
}

interface FakeClock {
  t: number;
  now(): number;
}
const fakeClock = (at: string): FakeClock => ({ t: Date.parse(at), now() { return this.t; } });

const ADMIN: Actor = { id: null, name: 'bench-admin', role: 'admin', scope: 'all' };
const clusterId = (i: number) => `pb-${String(i).padStart(5, '0')}`;
const COMMUNE = 'pb-xa';

interface Fixture {
  scenario: Scenario;
  dir: string;
  dataDir: string;
  template: string;
  programmes: number;
  setup: Record<string, number>;
}

type Db = ReturnType<typeof createDb>;

async function servicesOn(file: string, dataDir: string, clock: FakeClock, publisher: Publisher): Promise<{ s: Services; db: Db }> {
  const db = createDb(file);
  return { db, s: await createServices(loadConfig({ LOA_DATA_DIR: dataDir }), db, clock, publisher) };
}

async function buildFixture(o: Options, scenario: Scenario): Promise<Fixture> {
  const dir = makeTempDir(`loa-bench-planner-${scenario}-`);
  const dataDir = join(dir, 'data');
  const template = join(dir, 'template.db');
  const clock = fakeClock(o.start);
  const { s, db } = await servicesOn(template, dataDir, clock, new CountingPublisher());
  const setup: Record<string, number> = {};
  const actor = systemActor('bench');
  let t = performance.now();
  await s.areas.create({ id: COMMUNE, name: 'Xã Bình Thạnh', kind: 'commune', policy: { quietHours: '21:00-05:00' } });
  for (let h = 0; h < o.hamlets; h++) await s.areas.create({ id: `${COMMUNE}-h${h}`, name: `Ấp ${h + 1}`, kind: 'hamlet', parentId: COMMUNE });
  await s.clusters.create(
    Array.from({ length: o.clusters }, (_, i) => ({ id: clusterId(i), name: `Cụm ${i + 1}`, areaId: `${COMMUNE}-h${i % o.hamlets}`, serial: `PB${i}`, outputs: [{ index: 0, label: 'Loa 1' }, { index: 1, label: 'Loa 2' }] })),
    actor,
  );
  setup.fleetMs = performance.now() - t;
  t = performance.now();
  const wav = join(dir, 'tone.wav');
  const run = await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${o.toneS}`, wav]);
  if (run.code !== 0) throw new Error(run.stderr);
  const content = await s.content.ingest(wav, { source: 'upload', originalName: 'ban-tin.wav' }, actor);
  setup.contentMs = performance.now() - t;
  const slots = SLOTS.slice(0, o.programmes);
  const body = (i: number, targets: ProgrammeInput['targets'], suffix: string): ProgrammeInput => ({
    name: `${slots[i].name}${suffix}`,
    areaId: COMMUNE,
    targets,
    level: 'normal',
    items: [{ type: 'content', contentId: content.id }],
    schedule: { recurrence: slots[i].recurrence, time: slots[i].time, ...(slots[i].from ? { from: slots[i].from } : {}) },
    ...(slots[i].onClash ? { onClash: slots[i].onClash } : {}),
  });
  let programmes = 0;
  t = performance.now();
  if (scenario === 'shared') {
    const each: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const t1 = performance.now();
      await s.programmes.create(body(i, { areaIds: [COMMUNE] }, ''), ADMIN);
      each.push(performance.now() - t1);
      programmes++;
    }
    setup.createMs = performance.now() - t;
    setup.createEachMedianMs = median(each)!;
    setup.createLastMs = each[each.length - 1];
  } else {
    // The rows ProgrammesService.create writes for an admin (approved at once), in one transaction.
    const repo = new ProgrammesRepo(db);
    const now = clock.now();
    const durationMs = content.durationMs!;
    await repo.transaction(async (tx) => {
      for (let c = 0; c < o.clusters; c++) {
        for (let i = 0; i < slots.length; i++) {
          const id = `pg-${String(c).padStart(5, '0')}-${String(i).padStart(2, '0')}`;
          const input = body(i, { clusterIds: [clusterId(c)] }, ` — Cụm ${c + 1}`);
          await repo.insert({ id, name: input.name, areaId: COMMUNE, colour: '#1e88e5', liveVersion: 1, pendingVersion: null, latestVersion: 1, createdBy: ADMIN.name, createdAt: now }, tx);
          await repo.insertVersion({ programmeId: id, version: 1, state: 'approved', body: input, contentId: content.id, durationMs, createdBy: ADMIN.name, createdAt: now, approvedBy: ADMIN.name, approvedAt: now, rejectReason: null }, tx);
          programmes++;
        }
      }
    });
    s.catalog.invalidate();
    setup.insertMs = performance.now() - t;
  }
  db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  db.sqlite.close();
  setup.templateMb = statSync(template).size / 2 ** 20;
  return { scenario, dir, dataDir, template, programmes, setup };
}

// ---------------------------------------------------------------- measuring

const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

class Profiler {
  private session: Session | null = null;
  constructor(private dir: string, private wanted: Phase[]) {}
  async start(phase: Phase, on: boolean): Promise<void> {
    if (!on || !this.wanted.includes(phase)) return;
    this.session = new Session();
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: 200 });
    await this.session.post('Profiler.start');
  }
  async stop(phase: Phase, scenario: Scenario): Promise<string | null> {
    if (!this.session) return null;
    const { profile } = await this.session.post('Profiler.stop');
    this.session.disconnect();
    this.session = null;
    const file = join(this.dir, `${scenario}-${phase}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    return file;
  }
}

/** Inclusive time per project function (server/src, bench): where a phase's time goes, callers included. */
function inclusive(file: string, top = 20): { fn: string; where: string; totalMs: number; pct: number }[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[] };
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const keyOf = (id: number) => {
    const cf = byId.get(id)!.callFrame;
    if (!cf.url.includes('/server/src/')) return null;
    return `${cf.functionName || '(anonymous)'}@${cf.url.replace(/^.*\/server\/src\//, 'server/src/')}`;
  };
  const stackKeys = new Map<number, string[]>();
  const keysOf = (id: number): string[] => {
    let k = stackKeys.get(id);
    if (k) return k;
    const up = parent.has(id) ? keysOf(parent.get(id)!) : [];
    const own = keyOf(id);
    k = own && !up.includes(own) ? [...up, own] : up;
    stackKeys.set(id, k);
    return k;
  };
  const us = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const n = byId.get(p.samples[i])!;
    if (n.callFrame.functionName === '(idle)') continue;
    busy += dt;
    for (const k of keysOf(p.samples[i])) us.set(k, (us.get(k) ?? 0) + dt);
  }
  return [...us].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => ({ fn: k.slice(0, k.indexOf('@')), where: k.slice(k.indexOf('@') + 1), totalMs: v / 1000, pct: (v / busy) * 100 }));
}

/** CPU time of this process (user + system, ms): the same as wall time when nothing else competes for the core. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const count = (db: Db, table: string, where = '') => (db.sqlite.prepare(`select count(*) as n from ${table} ${where}`).get() as { n: number }).n;

interface Sample {
  catalogMs: number;
  coldRunMs: number;
  coldSettleMs: number;
  coldMs: number;
  coldCpuMs: number;
  cold: { planned: number; missed: number; moved: number; shifted: number; backlogTasks: number; groupPublishes: number; directPublishes: number; publishedMb: number };
  rows: { broadcasts: number; occurrences: number; manifestItems: number; airings: number; dbMb: number };
  idleMs: number;
  idleCpuMs: number;
  idleResult: { planned: number; missed: number };
  ttArea: Queries;
  ttCluster: Queries;
  rollMs: number;
  rollCpuMs: number;
  roll: { planned: number; missed: number; replaced: number };
  ttAreaAfterRoll: { medianMs: number; entries: number };
  heapUsedMb: number;
}

interface Queries {
  medianMs: number;
  cpuMedianMs: number;
  firstMs: number;
  entries: number;
  jsonMs: number;
  jsonKb: number;
}

async function timeQueries(s: Services, q: { areaId?: string; clusterId?: string }, n: number): Promise<Queries> {
  const times: number[] = [];
  const cpu: number[] = [];
  let last: Awaited<ReturnType<Services['timetable']['query']>> | null = null;
  for (let i = 0; i < n; i++) {
    const c = cpuMs();
    const t = performance.now();
    last = await s.timetable.query(q, ADMIN);
    times.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  const t = performance.now();
  const json = JSON.stringify(last);
  const jsonMs = performance.now() - t;
  return { medianMs: median(times)!, cpuMedianMs: median(cpu)!, firstMs: times[0], entries: last!.entries.length, jsonMs, jsonKb: Buffer.byteLength(json) / 1024 };
}

async function sample(o: Options, f: Fixture, k: number, prof: Profiler): Promise<Sample> {
  const file = join(f.dir, `sample-${k}.db`);
  copyFileSync(f.template, file);
  const clock = fakeClock(o.start);
  const pub = new CountingPublisher();
  const { s, db } = await servicesOn(file, f.dataDir, clock, pub);
  const profiling = k === 0;
  try {
    gc();
    // cold: the catalog (programmes resolved), the run, the deferred per-cluster bookkeeping
    await prof.start('cold', profiling);
    const cpu0 = cpuMs();
    let t = performance.now();
    await s.catalog.live();
    const catalogMs = performance.now() - t;
    t = performance.now();
    const r1 = await s.planner.run();
    const coldRunMs = performance.now() - t;
    const backlogTasks = s.backlog.pending;
    t = performance.now();
    await s.backlog.settle();
    const coldSettleMs = performance.now() - t;
    const coldCpuMs = cpuMs() - cpu0;
    await prof.stop('cold', f.scenario);
    const shifted = count(db, 'programme_occurrences', "where reason = 'moved'");
    const cold = { planned: r1.planned, missed: r1.missed, moved: r1.moved, shifted, backlogTasks, groupPublishes: pub.group, directPublishes: pub.direct, publishedMb: pub.bytes / 2 ** 20 };
    const rows = {
      broadcasts: count(db, 'broadcasts'),
      occurrences: count(db, 'programme_occurrences'),
      manifestItems: count(db, 'manifest_items'),
      airings: count(db, 'airings'),
      dbMb: (statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0)) / 2 ** 20,
    };
    log(`  [${f.scenario} #${k + 1}] cold: catalog ${catalogMs.toFixed(0)} ms + run ${coldRunMs.toFixed(0)} ms + settle ${coldSettleMs.toFixed(0)} ms (CPU ${coldCpuMs.toFixed(0)} ms); planned ${r1.planned}, missed ${r1.missed}, shifted ${shifted}, displaced ${r1.moved}; ${rows.broadcasts} broadcasts, ${rows.manifestItems} manifest rows, ${rows.airings} airings; ${pub.group} group + ${pub.direct} direct publishes`);

    // idle: the same run again — nothing to plan
    gc();
    await prof.start('idle', profiling);
    let c = cpuMs();
    t = performance.now();
    const r2 = await s.planner.run();
    await s.backlog.settle();
    const idleMs = performance.now() - t;
    const idleCpuMs = cpuMs() - c;
    await prof.stop('idle', f.scenario);

    // the 7-day timetable of the commune and of one cluster
    gc();
    await prof.start('tt-area', profiling);
    const ttArea = await timeQueries(s, { areaId: COMMUNE }, o.queries);
    await prof.stop('tt-area', f.scenario);
    gc();
    await prof.start('tt-cluster', profiling);
    const ttCluster = await timeQueries(s, { clusterId: clusterId(Math.floor(o.clusters / 2)) }, o.queries);
    await prof.stop('tt-cluster', f.scenario);
    log(`  [${f.scenario} #${k + 1}] idle run ${idleMs.toFixed(0)} ms (CPU ${idleCpuMs.toFixed(0)} ms, planned ${r2.planned}); timetable 7 d: commune ${ttArea.medianMs.toFixed(1)} ms (CPU ${ttArea.cpuMedianMs.toFixed(1)}; ${ttArea.entries} entries, first ${ttArea.firstMs.toFixed(0)} ms, JSON ${ttArea.jsonMs.toFixed(1)} ms / ${ttArea.jsonKb.toFixed(0)} KB), one cluster ${ttCluster.medianMs.toFixed(1)} ms (CPU ${ttCluster.cpuMedianMs.toFixed(1)}; ${ttCluster.entries} entries)`);

    // a day later: the rolling run
    clock.t += 24 * H;
    gc();
    await prof.start('roll', profiling);
    c = cpuMs();
    t = performance.now();
    const r3 = await s.planner.run();
    await s.backlog.settle();
    const rollMs = performance.now() - t;
    const rollCpuMs = cpuMs() - c;
    await prof.stop('roll', f.scenario);
    const after = await timeQueries(s, { areaId: COMMUNE }, Math.max(3, Math.ceil(o.queries / 3)));
    log(`  [${f.scenario} #${k + 1}] +24 h run ${rollMs.toFixed(0)} ms (CPU ${rollCpuMs.toFixed(0)} ms, planned ${r3.planned}, missed ${r3.missed}, replaced ${r3.replaced}); commune timetable then ${after.medianMs.toFixed(1)} ms`);
    return {
      catalogMs,
      coldRunMs,
      coldSettleMs,
      coldMs: catalogMs + coldRunMs + coldSettleMs,
      coldCpuMs,
      cold,
      rows,
      idleMs,
      idleCpuMs,
      idleResult: { planned: r2.planned, missed: r2.missed },
      ttArea,
      ttCluster,
      rollMs,
      rollCpuMs,
      roll: { planned: r3.planned, missed: r3.missed, replaced: r3.replaced },
      ttAreaAfterRoll: { medianMs: after.medianMs, entries: after.entries },
      heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    };
  } finally {
    db.sqlite.close();
    for (const x of [file, `${file}-wal`, `${file}-shm`]) rmSync(x, { force: true });
  }
}

/** One save through ProgrammesService at the fixture's size (checks against every programme, catalog reloaded). */
async function oneSave(o: Options, f: Fixture): Promise<{ saveMs: number; catalogReloadMs: number }> {
  const file = join(f.dir, 'save.db');
  copyFileSync(f.template, file);
  const { s, db } = await servicesOn(file, f.dataDir, fakeClock(o.start), new CountingPublisher());
  try {
    const contentId = (db.sqlite.prepare('select id from content limit 1').get() as { id: string }).id;
    let t = performance.now();
    await s.catalog.live();
    const catalogReloadMs = performance.now() - t;
    t = performance.now();
    await s.programmes.create({ name: 'Thêm', areaId: COMMUNE, targets: { clusterIds: [clusterId(0)] }, level: 'normal', items: [{ type: 'content', contentId }], schedule: { recurrence: { kind: 'daily' }, time: '14:00' } }, ADMIN);
    return { saveMs: performance.now() - t, catalogReloadMs };
  } finally {
    db.sqlite.close();
    for (const x of [file, `${file}-wal`, `${file}-shm`]) rmSync(x, { force: true });
  }
}

// ---------------------------------------------------------------- report

const med = (xs: number[]) => median(xs) ?? NaN;
const fx = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const range = (xs: number[], d = 0) => `${fx(Math.min(...xs), d)}–${fx(Math.max(...xs), d)}`;

interface ScenarioResult {
  scenario: Scenario;
  programmes: number;
  setup: Record<string, number>;
  samples: Sample[];
  save?: { saveMs: number; catalogReloadMs: number };
  profiles: { phase: string; file: string; self: ReturnType<typeof summarise>[number]; inclusive: ReturnType<typeof inclusive> }[];
}

function markdown(o: Options, results: ScenarioResult[]): string {
  const L: string[] = [];
  const m = (r: ScenarioResult, f: (x: Sample) => number) => med(r.samples.map(f));
  L.push('| scenario | programmes | cold: catalog + run + settle (ms) | cold CPU (ms) | planned / shifted | rows written (broadcasts / manifest / airings) | publishes group / direct | 2nd run: wall / CPU (ms) | +24 h run: wall / CPU (ms) | 2nd ÷ cold | +24 h ÷ cold |');
  L.push('|---|---:|---|---:|---|---|---|---|---|---:|---:|');
  for (const r of results) {
    const S = r.samples;
    const cold = m(r, (x) => x.coldMs);
    const c = S[0].cold;
    const w = S[0].rows;
    L.push(
      `| ${r.scenario} | ${fx(r.programmes)} | **${fx(cold)}** (${range(S.map((x) => x.coldMs))}) = ${fx(m(r, (x) => x.catalogMs))} + ${fx(m(r, (x) => x.coldRunMs))} + ${fx(m(r, (x) => x.coldSettleMs))} | ${fx(m(r, (x) => x.coldCpuMs))} | ` +
        `${fx(c.planned)} / ${fx(c.shifted)} | ${fx(w.broadcasts)} / ${fx(w.manifestItems)} / ${fx(w.airings)} | ${fx(c.groupPublishes)} / ${fx(c.directPublishes)} | ` +
        `${fx(m(r, (x) => x.idleMs))} / ${fx(m(r, (x) => x.idleCpuMs))} | ${fx(m(r, (x) => x.rollMs))} / ${fx(m(r, (x) => x.rollCpuMs))} (planned ${fx(S[0].roll.planned)}) | ${(m(r, (x) => x.idleMs) / cold).toFixed(2)} | ${(m(r, (x) => x.rollMs) / cold).toFixed(2)} |`,
    );
  }
  L.push('');
  L.push('| scenario | timetable 7 d, commune: wall (ms) | CPU (ms) | entries | JSON.stringify (ms / KB) | one cluster: wall (ms) | CPU (ms) | entries | commune after +24 h (ms) | < 100 ms? |');
  L.push('|---|---|---:|---:|---|---|---:|---:|---:|---|');
  for (const r of results) {
    const S = r.samples;
    const a = m(r, (x) => x.ttArea.medianMs);
    const c = m(r, (x) => x.ttCluster.medianMs);
    L.push(
      `| ${r.scenario} | **${fx(a, 1)}** (${range(S.map((x) => x.ttArea.medianMs), 1)}) | ${fx(m(r, (x) => x.ttArea.cpuMedianMs), 1)} | ${fx(S[0].ttArea.entries)} | ${fx(m(r, (x) => x.ttArea.jsonMs), 1)} / ${fx(S[0].ttArea.jsonKb)} | ` +
        `**${fx(c, 1)}** (${range(S.map((x) => x.ttCluster.medianMs), 1)}) | ${fx(m(r, (x) => x.ttCluster.cpuMedianMs), 1)} | ${fx(S[0].ttCluster.entries)} | ${fx(m(r, (x) => x.ttAreaAfterRoll.medianMs), 1)} | ${a < 100 && c < 100 ? 'met' : a < 100 ? 'commune met, cluster missed' : c < 100 ? 'cluster met, commune missed' : 'missed'} |`,
    );
  }
  L.push('');
  L.push(`${o.clusters} clusters in one commune (${o.hamlets} hamlets), quiet hours 21:00–05:00, a ${o.toneS} s content item; medians of ${results[0]?.samples.length ?? 0} samples, each on a fresh copy of the database (range in brackets); timetable: median of ${o.queries} queries per sample. CPU = user + system time of the process over the same span (all its threads).`);
  for (const r of results) {
    const st = Object.entries(r.setup).map(([k, v]) => `${k} ${fx(v, 1)}`).join(', ');
    L.push(`Setup ${r.scenario}: ${st}${r.save ? `; one more save through ProgrammesService at this size: ${fx(r.save.saveMs)} ms (catalog reload ${fx(r.save.catalogReloadMs)} ms)` : ''}.`);
  }
  return L.join('\n');
}

function printInclusive(rows: ReturnType<typeof inclusive>): string {
  const L = ['| function (inclusive, server/src) | where | total ms | % of busy |', '|---|---|---:|---:|'];
  for (const r of rows) L.push(`| ${r.fn} | ${r.where} | ${r.totalMs.toFixed(0)} | ${r.pct.toFixed(1)} |`);
  return L.join('\n');
}

function machine() {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    /* not Linux */
  }
  // the checked-out commit, read from .git without running git (null when not a plain checkout)
  let commit: string | null = null;
  try {
    const head = readFileSync(join(ROOT, '.git', 'HEAD'), 'utf8').trim();
    commit = (head.startsWith('ref: ') ? readFileSync(join(ROOT, '.git', head.slice(5)), 'utf8').trim() : head).slice(0, 7);
  } catch {
    /* packed refs or no checkout */
  }
  // what was measured when the tree is not a clean commit: a hash of the server's and schemas' sources
  const files = (dir: string): string[] => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)).sort();
  const h = createHash('sha256');
  for (const f of [...files('server/src'), ...files('schemas')]) h.update(f).update(readFileSync(join(ROOT, f)));
  const sourceHash = h.digest('hex').slice(0, 12);
  return { cpu, cores: cpus().length, sourceHash, memGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}`, loadavg: loadavg().map((x) => x.toFixed(2)).join(' '), date: new Date().toISOString(), commit };
}

// ---------------------------------------------------------------- main

export async function plannerMain(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  const { logDir, out, save: write } = resultsFiles('planner-', o.out);
  const watchdog = startWatchdog(o.maxMinutes, 124, log);
  const m = machine();
  log(`planner bench: ${o.clusters} clusters, ${o.programmes} schedules, scenarios ${o.scenarios.join(',')}, ${o.samples} samples; ${m.cores} cpus (${m.cpu}), node ${m.node}, load ${m.loadavg}`);
  const results: ScenarioResult[] = [];
  const save = () => write({ options: o, machine: { ...m, loadavgEnd: loadavg().map((x) => x.toFixed(2)).join(' ') }, results });
  for (const scenario of o.scenarios) {
    const t = performance.now();
    const f = await buildFixture(o, scenario);
    log(`${scenario}: fixture of ${f.programmes} programmes in ${((performance.now() - t) / 1000).toFixed(1)} s (${Object.entries(f.setup).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})`);
    const r: ScenarioResult = { scenario, programmes: f.programmes, setup: f.setup, samples: [], profiles: [] };
    results.push(r);
    const prof = new Profiler(logDir, o.profile);
    try {
      for (let k = 0; k < o.samples; k++) {
        r.samples.push(await sample(o, f, k, prof));
        save();
      }
      if (scenario === 'per-cluster') {
        r.save = await oneSave(o, f);
        log(`${scenario}: one more save through ProgrammesService: ${r.save.saveMs.toFixed(0)} ms (catalog reload ${r.save.catalogReloadMs.toFixed(0)} ms)`);
      }
    } finally {
      removeTempDir(f.dir);
    }
    for (const phase of o.profile) {
      const file = join(logDir, `${scenario}-${phase}.cpuprofile`);
      if (!existsSync(file)) continue;
      r.profiles.push({ phase, file, self: summarise(file, [], undefined, 20)[0], inclusive: inclusive(file) });
    }
    save();
  }
  clearTimeout(watchdog);
  process.stdout.write(`\n${markdown(o, results)}\n`);
  for (const r of results) {
    for (const p of r.profiles) process.stdout.write(`\n_${r.scenario}, ${p.phase}:_\n\n${printSummary({ ...p.self, window: `${r.scenario} ${p.phase}` })}\n\n${printInclusive(p.inclusive)}\n`);
  }
  process.stdout.write(`\nmachine: ${m.cpu}, ${m.cores} cores, ${m.memGb} GB, node ${m.node}, load ${m.loadavg} → ${loadavg().map((x) => x.toFixed(2)).join(' ')}${m.commit ? `, commit ${m.commit}` : ''}, sources ${m.sourceHash}\nresults: ${out}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  guardChildren(log);
  runMain(() => plannerMain(process.argv.slice(2)), (line) => log(`planner bench ${line}`));
}
