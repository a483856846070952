/**
 * The markdown report of bench results: one table per size (bare aedes, loa server, ratio), medians and ranges over
 * repeats, and where the targets stand. Used by run.ts; also on its own to re-render saved results:
 *
 *   npx tsx bench/report.ts [--max-noise 25] bench/results/<file>.json [more.json …]
 */
import { readFileSync } from 'node:fs';
import type { PhaseResult, StormResult } from './clients.ts';
import type { ProcSampler } from './proc.ts';
import type { ProfileSummary } from './profile.ts';
import type { Quantiles } from './stats.ts';

export interface HeapInfo {
  heapUsedMb: number | null;
  heapTotalMb: number | null;
  externalMb: number | null;
  rssMb: number | null;
}

export type Lat = { p50: number | null; p90: number | null; p99: number | null };
export type ProcSummary = Record<string, ReturnType<ProcSampler['summary']>> & { peakRssMb: number };

export interface RunResult {
  target: 'bare' | 'loa';
  size: number;
  rep: number;
  ok: boolean;
  error?: string;
  setup?: { importMs?: number; areasMs?: number };
  storm?: StormResult & { apiAllOnlineMs: number | null; apiListOnlineTotal: number | null; apiListMs: number | null };
  subscribe?: StormResult & { perS: number };
  steady?: PhaseResult & {
    rows: number | null;
    rowsPerS: number | null;
    latencyMs: Lat | null;
    /** bare only: publish → external subscriber */
    subscriberMs: Quantiles | null;
  };
  saturation?: PhaseResult & {
    intervalMs: number;
    rows: number | null;
    /** sustained: all the phase sent ÷ (phase start → last one processed) */
    rowsPerS: number | null;
    /** rows/s read inside the phase, from SAT_WARMUP_MS to its end */
    windowRowsPerS: number;
    processedAllAfterMs: number;
    latencyMs: Lat | null;
    drainMs: number | null;
    rowsAfterDrain: number | null;
  };
  target_proc?: ProcSummary;
  clients_proc?: ProcSummary;
  subscriber_proc?: ProcSummary;
  server?: { rejected: number | null; onlineAtEnd: number | null; heap?: Record<string, HeapInfo | null> };
  profile?: { file: string; summaries: ProfileSummary[] };
  heapSnapshot?: string;
  /** per phase: mean CPU (% of one core) used by processes other than the target and the bench's clients */
  noise?: Record<string, number | null>;
}



function median(xs: (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
function range(xs: (number | null | undefined)[]): [number, number] | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? [Math.min(...v), Math.max(...v)] : null;
}

interface Row {
  label: string;
  get: (r: RunResult) => number | null | undefined;
  digits: number;
  /** the loa figure to compare with bare's `get` (default: the same getter) */
  loaGet?: (r: RunResult) => number | null | undefined;
  ratio?: boolean;
  /** free text for the bare column instead of a number */
  text?: (r: RunResult) => string | null;
}

const ROWS: Row[] = [
  { label: 'storm: all CONNACKed (s)', get: (r) => r.storm?.connackAllMs && r.storm.connackAllMs / 1000, digits: 2, ratio: true },
  { label: 'storm: all announced online (status PUBACKed) (s)', get: (r) => r.storm?.readyAllMs && r.storm.readyAllMs / 1000, digits: 2, ratio: true },
  { label: 'storm: all online in the API (s) — vs bare all CONNACKed', get: (r) => r.storm?.connackAllMs && r.storm.connackAllMs / 1000, loaGet: (r) => r.storm?.apiAllOnlineMs && r.storm.apiAllOnlineMs / 1000, digits: 2, ratio: true },
  { label: 'API: GET /api/clusters?online=true&limit=1 right after the storm (ms)', get: () => null, loaGet: (r) => r.storm?.apiListMs, digits: 0 },
  { label: 'storm: CONNECT→CONNACK p99 (ms)', get: (r) => r.storm?.connectMs.p99, digits: 0, ratio: true },
  { label: 'storm: target CPU-seconds', get: (r) => r.target_proc?.storm.cpuSeconds, digits: 2, ratio: true },
  { label: 'storm: target CPU max (% of a core)', get: (r) => r.target_proc?.storm.cpuMaxPct, digits: 0, ratio: true },
  { label: 'steady: messages sent /s', get: (r) => r.steady?.sentPerS, digits: 0 },
  { label: 'steady: processed /s (loa: rows committed; bare: seen by its in-process listener)', get: (r) => r.steady?.rowsPerS, digits: 0, ratio: true },
  { label: 'steady: target CPU median (% of a core)', get: (r) => r.target_proc?.steady.cpuMedianPct, digits: 1, ratio: true },
  { label: 'steady: target CPU mean (% of a core)', get: (r) => r.target_proc?.steady.cpuMeanPct, digits: 1, ratio: true },
  { label: 'steady: target CPU max (%)', get: (r) => r.target_proc?.steady.cpuMaxPct, digits: 1, ratio: true },
  { label: 'steady: target RSS median (MB)', get: (r) => r.target_proc?.steady.rssMedianMb, digits: 0, ratio: true },
  { label: 'steady: target RSS max (MB)', get: (r) => r.target_proc?.steady.rssMaxMb, digits: 0, ratio: true },
  { label: 'steady: JS heap used, end of window (MB)', get: () => null, loaGet: (r) => r.server?.heap?.steady?.heapUsedMb, digits: 0 },
  { label: 'steady: latency p50 (ms) (loa: publish→SQLite commit; bare: publish→in-process listener)', get: (r) => r.steady?.latencyMs?.p50, digits: 1 },
  { label: 'steady: latency p99 (ms) (same)', get: (r) => r.steady?.latencyMs?.p99, digits: 1 },
  { label: 'steady: bare publish→external subscriber p50 / p99 (ms)', get: () => null, digits: 0, text: (r) => (r.steady?.subscriberMs ? `${r.steady.subscriberMs.p50} / ${r.steady.subscriberMs.p99}` : null) },
  { label: 'saturation: offered /s', get: (r) => r.saturation && (r.saturation.offered / r.saturation.durationMs) * 1000, digits: 0 },
  { label: 'saturation: sent /s', get: (r) => r.saturation?.sentPerS, digits: 0, ratio: true },
  { label: 'saturation: processed /s, sustained (all sent ÷ phase start → last processed)', get: (r) => r.saturation?.rowsPerS, digits: 0, ratio: true },
  { label: 'saturation: last message processed after (s)', get: (r) => r.saturation?.processedAllAfterMs && r.saturation.processedAllAfterMs / 1000, digits: 1 },
  { label: 'saturation: processed /s inside the phase window (3 s → end)', get: (r) => r.saturation?.windowRowsPerS, digits: 0, ratio: true },
  { label: 'saturation: target CPU median (%)', get: (r) => r.target_proc?.saturation.cpuMedianPct, digits: 0, ratio: true },
  { label: 'saturation: latency p50 (ms) (loa: summary window includes ≤ 40 s of steady)', get: (r) => r.saturation?.latencyMs?.p50, digits: 0 },
  { label: 'saturation: latency p99 (ms)', get: (r) => r.saturation?.latencyMs?.p99, digits: 0 },
  { label: 'subscribe+birth step: all done (s) (— = not within the timeout)', get: (r) => r.subscribe?.readyAllMs && r.subscribe.readyAllMs / 1000, digits: 1, ratio: true },
  { label: 'subscribe+birth step: devices done /s', get: (r) => r.subscribe?.perS, digits: 0, ratio: true },
  { label: 'subscribe+birth step: target CPU-seconds', get: (r) => r.target_proc?.subscribe.cpuSeconds, digits: 1, ratio: true },
  { label: 'peak RSS, whole run (MB)', get: (r) => r.target_proc?.peakRssMb, digits: 0, ratio: true },
  { label: 'load generator CPU, steady (% of a core)', get: (r) => r.clients_proc?.steady.cpuMedianPct, digits: 0 },
  { label: 'load generator CPU, saturation (% of a core)', get: (r) => r.clients_proc?.saturation.cpuMedianPct, digits: 0 },
  { label: 'noise: other processes\' CPU during the storm (% of a core)', get: (r) => r.noise?.storm, digits: 0 },
  { label: 'noise: other processes\' CPU during steady (% of a core)', get: (r) => r.noise?.steady, digits: 0 },
];

function fmt(x: number | null, digits: number, rng?: [number, number] | null): string {
  if (x === null) return '—';
  const s = x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (rng && rng[0] !== rng[1]) return `${s} (${rng[0].toFixed(digits)}–${rng[1].toFixed(digits)})`;
  return s;
}

export function markdown(results: RunResult[], sizes: number[]): string {
  const out: string[] = [];
  const reps = Math.max(...results.map((r) => r.rep));
  for (const n of sizes) {
    const bare = results.filter((r) => r.size === n && r.target === 'bare' && r.ok);
    const loa = results.filter((r) => r.size === n && r.target === 'loa' && r.ok);
    const runs = bare.length === loa.length ? `${bare.length} runs` : `${bare.length} bare / ${loa.length} loa runs`;
    out.push(`#### ${n.toLocaleString('en-US')} clusters${reps > 1 ? ` — median of ${runs} (range)` : ''}`, '', '| metric | bare aedes | loa server | loa ÷ bare |', '|---|---:|---:|---:|');
    for (const row of ROWS) {
      if (row.text) {
        const texts = bare.map(row.text).filter(Boolean);
        out.push(`| ${row.label} | ${texts.join('; ') || '—'} | — | |`);
        continue;
      }
      const b = median(bare.map(row.get));
      const lg = row.loaGet ?? row.get;
      const l = median(loa.map(lg));
      const ratio = row.ratio && b && l !== null ? `${(l / b).toFixed(2)}×` : '';
      out.push(`| ${row.label} | ${fmt(b, row.digits, reps > 1 ? range(bare.map(row.get)) : null)} | ${fmt(l, row.digits, reps > 1 ? range(loa.map(lg)) : null)} | ${ratio} |`);
    }
    const failed = results.filter((r) => r.size === n && !r.ok);
    for (const f of failed) out.push(`\n_${f.target} run ${f.rep} failed: ${f.error}_`);
    out.push('');
  }
  return out.join('\n');
}

export function targetsVerdict(results: RunResult[]): string {
  const lines: string[] = ['#### Targets', ''];
  const sizes = [...new Set(results.map((r) => r.size))].sort((a, b) => a - b);
  for (const n of sizes) {
    const bare = results.filter((r) => r.size === n && r.target === 'bare' && r.ok);
    const loa = results.filter((r) => r.size === n && r.target === 'loa' && r.ok);
    const b = median(bare.map((r) => r.storm?.connackAllMs));
    const l = median(loa.map((r) => r.storm?.apiAllOnlineMs));
    if (b && l) lines.push(`- ${n}: reconnect storm ${(l / 1000).toFixed(2)} s vs bare ${(b / 1000).toFixed(2)} s = ${(l / b).toFixed(2)}× (target ≤ 1.5×): ${l / b <= 1.5 ? 'MET' : 'MISSED'}`);
    const cpu = median(loa.map((r) => r.target_proc?.steady.cpuMedianPct));
    const rss = median(loa.map((r) => r.target_proc?.steady.rssMaxMb));
    if (cpu !== null) lines.push(`- ${n}: steady CPU median ${cpu.toFixed(1)}% of one core (target < 50% at 10,000): ${cpu < 50 ? 'MET' : 'MISSED'}; steady RSS max ${rss?.toFixed(0)} MB (target < 400 MB): ${rss !== null && rss < 400 ? 'MET' : 'MISSED'}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--max-noise');
  // keep only runs in which other processes took at most this much CPU (% of a core) during the storm and steady phases
  const maxNoise = i >= 0 ? Number(args.splice(i, 2)[1]) : Infinity;
  const files = args;
  if (!files.length) {
    process.stderr.write('usage: tsx bench/report.ts [--max-noise <% of a core>] <results.json> [more.json …]\n');
    process.exit(2);
  }
  const results: RunResult[] = [];
  let sizes: number[] = [];
  for (const f of files) {
    const j = JSON.parse(readFileSync(f, 'utf8')) as { options: { sizes: number[] }; results: RunResult[] };
    results.push(...j.results.filter((r) => (r.noise?.storm ?? 0) <= maxNoise && (r.noise?.steady ?? 0) <= maxNoise));
    sizes = [...new Set([...sizes, ...j.options.sizes])].sort((a, b) => a - b);
  }
  process.stdout.write(markdown(results, sizes) + '\n' + targetsVerdict(results) + '\n');
}
