/**
 * The radio link between a receiver and the broker, as far as the application can tell: added latency, jitter and
 * loss, per direction. MQTT runs over TCP, so delayed messages keep their order — each release time is clamped to
 * be no earlier than the previous one instead of letting jitter reorder them.
 */
export interface Impairment {
  delayMs: number;
  jitterMs: number;
  /** Probability in [0,1] that a message is lost. */
  dropRate: number;
  /**
   * Loss on a TCP link only really hits QoS 0 (what was in flight when a connection died). Set this to also drop
   * QoS 1 messages, i.e. to model a device that acknowledged a command at MQTT level and then lost it.
   */
  dropQos1: boolean;
}

export interface NetworkOptions extends Partial<Impairment> {
  /** Overrides for device → broker. */
  up?: Partial<Impairment>;
  /** Overrides for broker → device. */
  down?: Partial<Impairment>;
}

export type Direction = 'up' | 'down';

/**
 * Called when the message leaves the link, with how late (ms; < 0: early) this process released it against the
 * instant the modelled network delivers it. That lateness is the host's timer latency — on a loaded box it is as
 * large as the modelled jitter — not the network's, so what stamps a packet (time sync) takes it off; anything else
 * simply sees the message late, as a busy device would.
 */
export type Deliver = (lateMs: number) => void;

const CLEAN: Impairment = { delayMs: 0, jitterMs: 0, dropRate: 0, dropQos1: false };

export class Link {
  private imp: Record<Direction, Impairment> = { up: { ...CLEAN }, down: { ...CLEAN } };
  private queues: Record<Direction, Array<{ at: number; deliver: Deliver }>> = { up: [], down: [] };
  private timers: Record<Direction, NodeJS.Timeout | null> = { up: null, down: null };
  /** Inbound work held while the link is a black hole; released in order when it comes back. */
  private held: Deliver[] = [];
  readonly dropped: Record<Direction, number> = { up: 0, down: 0 };
  blackholed = false;

  constructor(private readonly random: () => number = Math.random) {}

  /** Set the impairment; with `merge`, only the fields given change (so delay and loss can be added separately). */
  configure(opts: NetworkOptions | null, merge = false): void {
    const { up, down, ...both } = opts ?? {};
    const from = (dir: Direction) => (merge ? this.imp[dir] : CLEAN);
    this.imp = {
      up: { ...from('up'), ...stripUndefined(both), ...stripUndefined(up ?? {}) },
      down: { ...from('down'), ...stripUndefined(both), ...stripUndefined(down ?? {}) },
    };
  }

  impairment(dir: Direction): Impairment {
    return { ...this.imp[dir] };
  }

  /**
   * Carry one message in one direction. Returns false if the link lost it. Delivery is synchronous when the link is
   * clean and nothing is queued, which keeps time-sync samples free of timer latency.
   */
  pass(dir: Direction, qos: 0 | 1, deliver: Deliver): boolean {
    const imp = this.imp[dir];
    if (imp.dropRate > 0 && (qos === 0 || imp.dropQos1) && this.random() < imp.dropRate) {
      this.dropped[dir]++;
      return false;
    }
    if (dir === 'down' && this.blackholed) {
      this.held.push(deliver);
      return true;
    }
    this.schedule(dir, deliver);
    return true;
  }

  private schedule(dir: Direction, deliver: Deliver): void {
    const imp = this.imp[dir];
    const q = this.queues[dir];
    const now = performance.now();
    const delay = imp.delayMs + (imp.jitterMs > 0 ? this.random() * imp.jitterMs : 0);
    if (delay <= 0 && q.length === 0) {
      deliver(0);
      return;
    }
    // One queue and one timer per direction: release order is queue order, whatever Node does with equal expiries.
    const at = Math.max(now + delay, q.length ? q[q.length - 1].at : 0);
    q.push({ at, deliver });
    if (q.length === 1) this.arm(dir);
  }

  private arm(dir: Direction): void {
    const q = this.queues[dir];
    if (!q.length) return;
    this.timers[dir] = setTimeout(() => {
      this.timers[dir] = null;
      const now = performance.now();
      // Timers may fire up to a millisecond early; anything within that is due.
      while (q.length && q[0].at <= now + 1) {
        const m = q.shift()!;
        try {
          // Read the clock per message: one delivery's handler can run for a while before the next is released.
          m.deliver(performance.now() - m.at);
        } catch {
          // a delivery callback failing must not stall the rest of the link
        }
      }
      this.arm(dir);
    }, Math.max(0, q[0].at - performance.now()));
  }

  /** Stop holding inbound work and run what was held, oldest first. */
  release(): void {
    this.blackholed = false;
    const held = this.held;
    this.held = [];
    for (const fn of held) this.schedule('down', fn);
  }

  /** Forget everything in flight (power loss, connection torn down). */
  clear(): void {
    for (const dir of ['up', 'down'] as const) {
      const t = this.timers[dir];
      if (t) clearTimeout(t);
      this.timers[dir] = null;
      this.queues[dir] = [];
    }
    this.held = [];
  }

  get pending(): number {
    return this.queues.up.length + this.queues.down.length + this.held.length;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
