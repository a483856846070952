/** CPU and memory of a process from /proc (Linux only), sampled on an interval and tagged with the current phase. */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  /* 100 on every Linux we run on */
}

export interface ProcSnapshot {
  at: number;
  /** utime + stime of all threads, seconds */
  cpuS: number;
  rssKb: number;
  hwmKb: number;
}

export function snapshot(pid: number): ProcSnapshot | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; everything after the last ')' is space-separated from field 3 on
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / clkTck;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { at: Date.now(), cpuS, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

export interface Sample {
  phase: string;
  at: number;
  /** % of one core over the interval that ended at `at` */
  cpuPct: number;
  rssMb: number;
}

/** Samples one process every `everyMs`; `phase` is read at each tick so the caller just sets it. */
export class ProcSampler {
  phase = 'idle';
  readonly samples: Sample[] = [];
  private last: ProcSnapshot | null;
  private timer: NodeJS.Timeout;
  /** CPU-seconds spent per phase (exact: deltas of utime+stime, attributed to the phase at the end of the tick) */
  readonly cpuSeconds = new Map<string, number>();
  readonly phaseMs = new Map<string, number>();
  peakHwmMb = 0;

  constructor(
    private pid: number,
    everyMs = 1000,
  ) {
    this.last = snapshot(pid);
    this.timer = setInterval(() => this.tick(), everyMs);
  }

  /** Takes a sample now (call when switching phase so the CPU seconds fall into the right one). */
  tick(): void {
    const s = snapshot(this.pid);
    if (!s || !this.last) return;
    const dt = (s.at - this.last.at) / 1000;
    if (dt <= 0.05) return;
    const dc = s.cpuS - this.last.cpuS;
    this.samples.push({ phase: this.phase, at: s.at, cpuPct: (dc / dt) * 100, rssMb: s.rssKb / 1024 });
    this.cpuSeconds.set(this.phase, (this.cpuSeconds.get(this.phase) ?? 0) + dc);
    this.phaseMs.set(this.phase, (this.phaseMs.get(this.phase) ?? 0) + dt * 1000);
    this.peakHwmMb = Math.max(this.peakHwmMb, s.hwmKb / 1024);
    this.last = s;
  }

  setPhase(p: string): void {
    this.tick();
    this.phase = p;
  }

  stop(): void {
    this.tick();
    clearInterval(this.timer);
  }

  summary(phase: string) {
    const xs = this.samples.filter((s) => s.phase === phase);
    const sorted = (k: 'cpuPct' | 'rssMb') => xs.map((s) => s[k]).sort((a, b) => a - b);
    const med = (a: number[]) => (a.length ? a[Math.floor((a.length - 1) / 2)] : null);
    const cpu = sorted('cpuPct');
    const rss = sorted('rssMb');
    const ms = this.phaseMs.get(phase) ?? 0;
    const cs = this.cpuSeconds.get(phase) ?? 0;
    return {
      samples: xs.length,
      cpuMedianPct: med(cpu),
      cpuMaxPct: cpu.length ? cpu[cpu.length - 1] : null,
      /** CPU-seconds / wall seconds over the whole phase */
      cpuMeanPct: ms ? (cs / (ms / 1000)) * 100 : null,
      cpuSeconds: cs,
      rssMedianMb: med(rss),
      rssMaxMb: rss.length ? rss[rss.length - 1] : null,
    };
  }
}

/** Whole-machine CPU from /proc/stat, per phase: lets a run show how much other processes took (noise). */
export class SystemSampler {
  phase = 'idle';
  private last: { at: number; busy: number } | null;
  private timer: NodeJS.Timeout;
  readonly busySeconds = new Map<string, number>();
  readonly phaseMs = new Map<string, number>();

  constructor(everyMs = 1000) {
    this.last = SystemSampler.read();
    this.timer = setInterval(() => this.tick(), everyMs);
  }

  private static read(): { at: number; busy: number } | null {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      // user nice system idle iowait irq softirq steal …; busy = everything but idle and iowait
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      return { at: Date.now(), busy: (total - f[3] - f[4]) / clkTck };
    } catch {
      return null;
    }
  }

  tick(): void {
    const s = SystemSampler.read();
    if (!s || !this.last) return;
    const dt = s.at - this.last.at;
    if (dt <= 50) return;
    this.busySeconds.set(this.phase, (this.busySeconds.get(this.phase) ?? 0) + (s.busy - this.last.busy));
    this.phaseMs.set(this.phase, (this.phaseMs.get(this.phase) ?? 0) + dt);
    this.last = s;
  }

  setPhase(p: string): void {
    this.tick();
    this.phase = p;
  }

  stop(): void {
    this.tick();
    clearInterval(this.timer);
  }

  /** mean busy CPU of the whole machine in the phase, % of one core */
  meanPct(phase: string): number | null {
    const ms = this.phaseMs.get(phase);
    return ms ? ((this.busySeconds.get(phase) ?? 0) / (ms / 1000)) * 100 : null;
  }
}
