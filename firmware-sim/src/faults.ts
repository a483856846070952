/**
 * Faults as data, so a fleet can apply one to a selection of clusters and the CLI can take them from the command
 * line. The grammar is documented in FAULT_GRAMMAR (shown by --help).
 */
import type { OutputFault } from './device-state.ts';
import type { NetworkOptions } from './link.ts';
import type { RebootReason } from './cluster-core.ts';
import type { SimCluster } from './sim-cluster.ts';

export type Fault =
  | { kind: 'mains-loss' }
  | { kind: 'mains-restore' }
  | { kind: 'relay-trip' }
  | { kind: 'relay-reset' }
  | { kind: 'output-fault'; fault: OutputFault; index?: number }
  | { kind: 'output-restore'; index?: number }
  | { kind: 'overheat'; tempC?: number }
  | { kind: 'cool-down' }
  | { kind: 'link-down'; ms?: number; mode?: 'drop' | 'blackhole' }
  | { kind: 'link-up' }
  | { kind: 'link-flap'; downMs?: number; upMs?: number }
  | { kind: 'link-flap-stop' }
  | { kind: 'reconnect-storm'; maxDelayMs?: number }
  | { kind: 'network'; network: NetworkOptions | null }
  | { kind: 'reboot'; reason?: RebootReason }
  | { kind: 'kill' }
  | { kind: 'corrupt-download' }
  | { kind: 'content-fetch-delay'; ms: number };

/** Which clusters: a count, a fraction in [0,1], or explicit ids. Nothing given means all. */
export interface Selection {
  count?: number;
  fraction?: number;
  ids?: string[];
}

export function applyFault(c: SimCluster, f: Fault, random: () => number = Math.random): void {
  const anyOutput = () => c.state.outputs[Math.floor(random() * c.state.outputs.length)].index;
  switch (f.kind) {
    case 'mains-loss':
      return c.mainsLoss(true);
    case 'mains-restore':
      return c.mainsLoss(false);
    case 'relay-trip':
      return c.relayTrip();
    case 'relay-reset':
      return c.relayReset();
    case 'output-fault':
      return c.outputFault(f.index ?? anyOutput(), f.fault);
    case 'output-restore':
      if (f.index !== undefined) return c.outputRestore(f.index);
      for (const o of c.state.outputs) c.outputRestore(o.index);
      return;
    case 'overheat':
      return c.overheat(f.tempC);
    case 'cool-down':
      return c.coolDown();
    case 'link-down':
      return c.linkDown(f.ms, { mode: f.mode });
    case 'link-up':
      return c.linkUp();
    case 'link-flap':
      return c.linkFlap({ downMs: f.downMs, upMs: f.upMs });
    case 'link-flap-stop':
      return c.linkFlap(null);
    case 'reconnect-storm':
      return c.reconnectStorm({ maxDelayMs: f.maxDelayMs });
    case 'network':
      return c.network(f.network, f.network !== null);
    case 'reboot':
      return void c.reboot(f.reason ?? 'watchdog');
    case 'kill':
      return c.kill();
    case 'corrupt-download':
      return c.corruptNextDownload();
    case 'content-fetch-delay':
      return c.contentFetchDelay(f.ms);
  }
}

/** Pick clusters without replacement. */
export function select<T extends { id: string }>(all: readonly T[], sel: Selection = {}, random: () => number = Math.random): T[] {
  if (sel.ids) {
    const want = new Set(sel.ids);
    return all.filter((c) => want.has(c.id));
  }
  let n = all.length;
  if (sel.count !== undefined) n = Math.min(all.length, Math.max(0, Math.floor(sel.count)));
  else if (sel.fraction !== undefined) n = Math.round(all.length * Math.min(1, Math.max(0, sel.fraction)));
  if (n >= all.length) return [...all];
  const pool = [...all];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

export const FAULT_GRAMMAR = `Fault spec:  KIND[:ARG][@WHEN]      (repeat --fault for several)
  Applied to a selection — ARG is N (clusters) or P% (of the fleet); default all:
    mains-loss  mains-restore  relay-trip  relay-reset
    output-open  output-short  output-overload  output-restore   (a random output of each)
    overheat (85 °C)  cool-down
    link-down (30 s, connection dropped)  blackhole (30 s, silent: broker notices by keepalive)
    link-flap (down ~5 s every ~25 s until stopped)
    reconnect-storm (drop, back within 5 s)  reboot (watchdog)  kill (power cut, no return)
    corrupt-download (the next content file fails sha256 verification)
  Network impairment for every cluster — ARG is the parameter:
    delay:MSms         fixed added latency each way          e.g. delay:150ms
    jitter:MIN-MAXms   latency uniform in [MIN, MAX] each way e.g. jitter:20-200ms
    drop:P%            loss of QoS 0 messages each way        e.g. drop:5%
  WHEN: delay after the connect ramp (every cluster started and online or failed once):
        30s, 500ms, 2m (default: at once).
  Examples: --fault mains-loss:10%  --fault output-open:3  --fault link-flap:5%@1m  --fault jitter:20-200ms`;

export interface ParsedFault {
  fault: Fault;
  selection: Selection;
  afterMs: number;
  spec: string;
}

const SELECTION_KINDS: Record<string, Fault> = {
  'mains-loss': { kind: 'mains-loss' },
  'mains-restore': { kind: 'mains-restore' },
  'relay-trip': { kind: 'relay-trip' },
  'relay-reset': { kind: 'relay-reset' },
  'output-open': { kind: 'output-fault', fault: 'open' },
  'output-short': { kind: 'output-fault', fault: 'short' },
  'output-overload': { kind: 'output-fault', fault: 'overload' },
  'output-restore': { kind: 'output-restore' },
  overheat: { kind: 'overheat', tempC: 85 },
  'cool-down': { kind: 'cool-down' },
  'link-down': { kind: 'link-down', ms: 30_000, mode: 'drop' },
  blackhole: { kind: 'link-down', ms: 30_000, mode: 'blackhole' },
  'link-flap': { kind: 'link-flap', downMs: 5000, upMs: 20_000 },
  'reconnect-storm': { kind: 'reconnect-storm', maxDelayMs: 5000 },
  reboot: { kind: 'reboot', reason: 'watchdog' },
  kill: { kind: 'kill' },
  'corrupt-download': { kind: 'corrupt-download' },
};

/** Parse one --fault spec; throws an Error whose message says what is wrong with it. */
export function parseFault(spec: string): ParsedFault {
  const m = /^([a-z-]+)(?::([^@]+))?(?:@(.+))?$/.exec(spec.trim());
  if (!m) throw new Error(`bad fault spec "${spec}": expected KIND[:ARG][@WHEN]`);
  const [, kind, arg, when] = m;
  const afterMs = when === undefined ? 0 : parseDuration(when, spec);
  if (kind === 'delay' || kind === 'jitter' || kind === 'drop') {
    if (arg === undefined) throw new Error(`bad fault spec "${spec}": ${kind} needs an argument`);
    return { fault: { kind: 'network', network: parseNetwork(kind, arg, spec) }, selection: {}, afterMs, spec };
  }
  const fault = SELECTION_KINDS[kind];
  if (!fault) throw new Error(`bad fault spec "${spec}": unknown fault "${kind}"`);
  return { fault: { ...fault }, selection: arg === undefined ? {} : parseSelection(arg, spec), afterMs, spec };
}

function parseSelection(arg: string, spec: string): Selection {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(arg);
  if (pct && Number(pct[1]) <= 100) return { fraction: Number(pct[1]) / 100 };
  if (/^\d+$/.test(arg)) return { count: Number(arg) };
  throw new Error(`bad fault spec "${spec}": selection "${arg}" must be a count (3) or a percentage (10%)`);
}

function parseNetwork(kind: string, arg: string, spec: string): NetworkOptions {
  if (kind === 'delay') {
    const d = /^(\d+)ms$/.exec(arg);
    if (d) return { delayMs: Number(d[1]) };
  } else if (kind === 'jitter') {
    const j = /^(\d+)-(\d+)ms$/.exec(arg);
    if (j && Number(j[2]) >= Number(j[1])) return { delayMs: Number(j[1]), jitterMs: Number(j[2]) - Number(j[1]) };
  } else {
    const p = /^(\d+(?:\.\d+)?)%$/.exec(arg);
    if (p && Number(p[1]) <= 100) return { dropRate: Number(p[1]) / 100 };
  }
  const want = { delay: 'MSms, e.g. delay:150ms', jitter: 'MIN-MAXms, e.g. jitter:20-200ms', drop: 'P%, e.g. drop:5%' }[kind];
  throw new Error(`bad fault spec "${spec}": ${kind} takes ${want}`);
}

export function parseDuration(s: string, spec = s): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(s);
  if (!m) throw new Error(`bad duration "${s}" in "${spec}": use 500ms, 30s or 2m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}
