/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by module, optionally only for
 * samples inside given wall-clock windows (the orchestrator knows when each phase ran).
 *
 *   tsx bench/profile.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Window {
  name: string;
  from: number;
  to: number;
}

export interface ProfileSummary {
  window: string;
  totalMs: number;
  byFunction: { fn: string; where: string; selfMs: number; pct: number }[];
  byModule: { module: string; selfMs: number; pct: number }[];
}

const ROOT = process.cwd();
/** run.ts runs the server from a `git archive` snapshot in a temp dir; show its files as project paths. */
const stripSnapshot = (path: string) => path.replace(/^.*\/loa-bench-server-[A-Za-z0-9]+\//, `${ROOT}/`);

/** Which bucket a script URL belongs to: a package under node_modules, a project folder, node internals or (program/gc). */
export function moduleOf(url: string, fn: string): string {
  if (!url) {
    if (fn === '(garbage collector)') return '(gc)';
    if (fn === '(idle)') return '(idle)';
    if (fn === '(program)') return '(program: native, not attributed)';
    return `(native) ${fn}`.trim();
  }
  if (url.startsWith('node:')) return url.startsWith('node:internal/') ? url.split('/').slice(0, 2).join('/') : url;
  const path = stripSnapshot(url.replace(/^file:\/\//, ''));
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel;
}

/** A short file name for a script URL: the path inside its package, or relative to the project. */
function fileOf(url: string): string {
  if (url.startsWith('node:')) return url;
  const path = stripSnapshot(url.replace(/^file:\/\//, ''));
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel;
}

export function summarise(file: string, windows: Window[] = [], wallOffsetMs?: number, top = 25): ProfileSummary[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // sample i happened at startTime + sum(timeDeltas[0..i]) µs (V8 monotonic clock); wallOffsetMs maps it to Date.now()
  const all: Window = { name: 'whole run', from: -Infinity, to: Infinity };
  const wins = [all, ...(wallOffsetMs === undefined ? [] : windows)];
  const out: ProfileSummary[] = [];
  for (const w of wins) {
    const selfUs = new Map<number, number>();
    let t = p.startTime;
    let total = 0;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i];
      const dt = p.timeDeltas[i + 1] ?? 0; // a sample stands for the time until the next one
      const wall = wallOffsetMs === undefined ? 0 : t / 1000 + wallOffsetMs;
      if (w !== all && (wall < w.from || wall >= w.to)) continue;
      selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
      total += dt;
    }
    const fnAgg = new Map<string, { fn: string; where: string; us: number }>();
    const modAgg = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      const cf = n.callFrame;
      if (cf.functionName === '(idle)') continue;
      const mod = moduleOf(cf.url, cf.functionName);
      const where = cf.url ? `${fileOf(cf.url)}:${cf.lineNumber + 1}` : mod;
      const key = `${cf.functionName}@${where}`;
      const e = fnAgg.get(key) ?? { fn: cf.functionName || '(anonymous)', where, us: 0 };
      e.us += us;
      fnAgg.set(key, e);
      modAgg.set(mod, (modAgg.get(mod) ?? 0) + us);
    }
    const idle = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
    const busy = total - idle;
    out.push({
      window: w.name,
      totalMs: busy / 1000,
      byFunction: [...fnAgg.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: (e.us / busy) * 100 })),
      byModule: [...modAgg].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, us]) => ({ module, selfMs: us / 1000, pct: (us / busy) * 100 })),
    });
  }
  return out;
}

export function printSummary(s: ProfileSummary): string {
  const lines = [`### CPU profile — ${s.window} (busy ${(s.totalMs / 1000).toFixed(1)} s, self time)`, '', '| module | self ms | % of busy |', '|---|---:|---:|'];
  for (const m of s.byModule.slice(0, 15)) lines.push(`| ${m.module} | ${m.selfMs.toFixed(0)} | ${m.pct.toFixed(1)} |`);
  lines.push('', '| function | where | self ms | % of busy |', '|---|---|---:|---:|');
  for (const f of s.byFunction) lines.push(`| ${f.fn} | ${f.where} | ${f.selfMs.toFixed(0)} | ${f.pct.toFixed(1)} |`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/profile.ts <file.cpuprofile> [--top N]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const top = i > 0 ? Number(process.argv[i + 1]) : 25;
  for (const s of summarise(file, [], undefined, top)) process.stdout.write(printSummary(s) + '\n');
}
