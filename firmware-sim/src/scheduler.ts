/**
 * Timers for simulated devices. A lone SimCluster uses real timers; a SimFleet of thousands shares one TickScheduler
 * so the process carries one interval instead of several per device, and periodic work (telemetry, time sync) lands
 * on per-device phase slots spread evenly over the interval rather than in bursts.
 */
export interface Cancel {
  (): void;
}

export interface Scheduler {
  /**
   * Run `fn` every `intervalMs`. `phase` in [0,1) places the runs at `k·interval + phase·interval` on the true
   * clock; a scheduler may ignore it. The first run is strictly in the future.
   */
  every(intervalMs: number, fn: () => void, phase?: number): Cancel;
  after(delayMs: number, fn: () => void): Cancel;
}

const safe = (fn: () => void, onError?: (e: unknown) => void) => {
  try {
    fn();
  } catch (e) {
    onError?.(e);
  }
};

/** Plain Node timers. Precise, one timer per task; fine for a handful of devices. */
export class TimerScheduler implements Scheduler {
  constructor(private readonly onError?: (e: unknown) => void) {}

  every(intervalMs: number, fn: () => void): Cancel {
    const t = setInterval(() => safe(fn, this.onError), intervalMs);
    return () => clearInterval(t);
  }

  after(delayMs: number, fn: () => void): Cancel {
    const t = setTimeout(() => safe(fn, this.onError), Math.max(0, delayMs));
    return () => clearTimeout(t);
  }
}

interface Entry {
  due: number;
  seq: number;
  intervalMs: number; // 0 for one-shots
  phaseMs: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * One interval of `tickMs` drives every task through a binary min-heap keyed on due time. Cancelled entries are
 * dropped lazily when they surface, which keeps cancel O(1) — reconfiguration of thousands of devices is common.
 */
export class TickScheduler implements Scheduler {
  private heap: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Number of task runs so far; lets tests and the CLI see the scheduler is alive. */
  runs = 0;

  constructor(
    readonly tickMs = 100,
    private readonly now: () => number = Date.now,
    private readonly onError?: (e: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.heap = [];
  }

  get size(): number {
    return this.heap.length;
  }

  every(intervalMs: number, fn: () => void, phase = 0): Cancel {
    const phaseMs = (((phase % 1) + 1) % 1) * intervalMs;
    const e: Entry = { due: nextSlot(this.now(), intervalMs, phaseMs), seq: this.seq++, intervalMs, phaseMs, fn, cancelled: false };
    this.push(e);
    return () => {
      e.cancelled = true;
    };
  }

  after(delayMs: number, fn: () => void): Cancel {
    const e: Entry = { due: this.now() + Math.max(0, delayMs), seq: this.seq++, intervalMs: 0, phaseMs: 0, fn, cancelled: false };
    this.push(e);
    return () => {
      e.cancelled = true;
    };
  }

  /** Run everything due. Public so tests can drive time without waiting for the interval. */
  tick(): void {
    const now = this.now();
    while (this.heap.length && this.heap[0].due <= now) {
      const e = this.pop()!;
      if (e.cancelled) continue;
      if (e.intervalMs > 0) {
        // A slow tick must not make a device fire twice to catch up: skip to the next slot after now.
        e.due = e.due + e.intervalMs > now ? e.due + e.intervalMs : nextSlot(now, e.intervalMs, e.phaseMs);
        e.seq = this.seq++;
        this.push(e);
      } else {
        e.cancelled = true;
      }
      this.runs++;
      safe(e.fn, this.onError);
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** First instant strictly after `now` of the form k·interval + phase. */
export function nextSlot(now: number, intervalMs: number, phaseMs: number): number {
  return (Math.floor((now - phaseMs) / intervalMs) + 1) * intervalMs + phaseMs;
}
