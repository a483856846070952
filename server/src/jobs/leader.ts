import type { HeldLock } from '../db/client.ts';

/**
 * Which of the instances sharing a database runs the periodic work that must happen once (docs/architecture.md
 * §2: durable jobs, sweeps, relays): the one holding the leader lock. The others try again every `retryMs`, so a
 * killed leader is replaced within about that (plus the moment PostgreSQL takes to see its connection close).
 * On SQLite the one instance is always the leader.
 */
export class Leadership {
  private lock: HeldLock | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private listeners = new Set<(leader: boolean) => void>();

  constructor(
    private tryLock: () => Promise<HeldLock | null>,
    private onError: (err: unknown) => void,
    private retryMs = 2_000,
  ) {}

  get isLeader(): boolean {
    return this.lock !== null;
  }

  /** Tells `fn` each time this instance becomes or stops being the leader. */
  onChange(fn: (leader: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves after the first attempt, leader or not. */
  async start(): Promise<void> {
    await this.attempt();
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    try {
      const lock = await this.tryLock();
      if (this.closed) {
        await lock?.release();
        return;
      }
      if (lock) {
        this.lock = lock;
        void lock.lost.then(() => this.deposed());
        this.emit(true);
        return;
      }
    } catch (err) {
      this.onError(err);
    }
    this.retry();
  }

  private deposed(): void {
    if (!this.lock || this.closed) return;
    this.lock = null;
    this.emit(false);
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.attempt(), this.retryMs);
    this.timer.unref();
  }

  private emit(leader: boolean): void {
    for (const fn of this.listeners) fn(leader);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const lock = this.lock;
    this.lock = null;
    await lock?.release();
  }
}
