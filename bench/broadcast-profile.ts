/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) over time windows given on the monotonic clock (µs, the clock V8
 * stamps profiles with: CLOCK_MONOTONIC, shared by every process on the host, read here with process.hrtime).
 * Self time by module and by function, and inclusive time of functions (each distinct function on a sample's stack
 * counted once), so "how much of the window went to writing airing reports" is one line.
 *
 *   npx tsx bench/broadcast-profile.ts <file.cpuprofile> [fromUs toUs]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileWindow {
  name: string;
  fromUs: number;
  toUs: number;
}
export interface Row {
  name: string;
  ms: number;
  pct: number;
}
export interface WindowSummary {
  name: string;
  wallMs: number;
  sampledMs: number;
  /** share of the window the main thread was not idle */
  busyPct: number;
  byModule: Row[];
  selfByFunction: Row[];
  inclusive: Row[];
}

/** Monotonic clock in µs, the time base of V8 CPU profiles. */
export const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.startsWith('node:')) return u;
  const m = /\/(server\/src|schemas|firmware-sim\/src)\/(.+)$/.exec(u);
  if (m) return `${m[1]}/${m[2]}`;
  return u.split('/').slice(-2).join('/');
}

function label(cf: CallFrame): string {
  const mod = moduleOf(cf.url, cf.functionName);
  return `${cf.functionName || '(anonymous)'} ${mod}:${cf.lineNumber + 1}`;
}

export function summariseProfile(file: string, windows: ProfileWindow[], top = 25): WindowSummary[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // sample times (µs, monotonic) and the duration each sample stands for (the delta to the next one)
  const t: number[] = new Array(p.samples.length);
  let acc = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    acc += p.timeDeltas[i] ?? 0;
    t[i] = acc;
  }
  return windows.map((w) => {
    const self = new Map<string, number>();
    const mods = new Map<string, number>();
    const incl = new Map<string, number>();
    let sampled = 0;
    let idle = 0;
    for (let i = 0; i < p.samples.length; i++) {
      if (t[i] < w.fromUs || t[i] > w.toUs) continue;
      const dt = Math.max(0, Math.min((i + 1 < t.length ? t[i + 1] : p.endTime) - t[i], 100_000)) / 1000;
      sampled += dt;
      const node = byId.get(p.samples[i])!;
      const cf = node.callFrame;
      if (cf.functionName === '(idle)') {
        idle += dt;
        continue;
      }
      const l = label(cf);
      self.set(l, (self.get(l) ?? 0) + dt);
      const m = moduleOf(cf.url, cf.functionName);
      mods.set(m, (mods.get(m) ?? 0) + dt);
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        if (!f.url) continue;
        const k = label(f);
        if (seen.has(k)) continue;
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + dt);
      }
    }
    const rows = (m: Map<string, number>) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, ms]) => ({ name, ms: Math.round(ms * 10) / 10, pct: sampled ? Math.round((ms / sampled) * 1000) / 10 : 0 }));
    return {
      name: w.name,
      wallMs: Math.round((w.toUs - w.fromUs) / 1000),
      sampledMs: Math.round(sampled),
      busyPct: sampled ? Math.round(((sampled - idle) / sampled) * 1000) / 10 : 0,
      byModule: rows(mods),
      selfByFunction: rows(self),
      inclusive: rows(new Map([...incl.entries()].filter(([k]) => /server\/src|schemas\/|aedes|mqtt-packet|better-sqlite3|drizzle/.test(k)))),
    };
  });
}

export function printProfile(s: WindowSummary): string {
  const lines = [`profile window ${s.name}: ${s.wallMs} ms wall, main thread busy ${s.busyPct} %`];
  const sec = (title: string, rows: Row[], n: number) => {
    lines.push(`  ${title}:`);
    for (const r of rows.slice(0, n)) lines.push(`    ${r.ms.toFixed(1).padStart(8)} ms ${String(r.pct).padStart(5)} %  ${r.name}`);
  };
  sec('self time by module', s.byModule, 12);
  sec('self time by function', s.selfByFunction, 20);
  sec('inclusive (server, schemas, aedes, sqlite)', s.inclusive, 25);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, from, to] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx bench/broadcast-profile.ts <file.cpuprofile> [fromUs toUs]\n');
    process.exit(2);
  }
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const w = { name: 'all', fromUs: from ? Number(from) : p.startTime, toUs: to ? Number(to) : p.endTime };
  process.stdout.write(printProfile(summariseProfile(file, [w])[0]) + '\n');
}
