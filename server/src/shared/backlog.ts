import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Work that must follow an action at once but need not hold up its answer: the per-cluster bookkeeping behind a
 * fan-out (manifest rows, the airing log). It runs on the next turn of the event loop, after the answer is written.
 * Whoever reads what it writes calls `settle()` first, so no read ever sees the world without it; what is lost to a
 * crash before it ran is redone at start-up by its owner (BroadcastsService.deliverDue).
 */
export class Backlog {
  private queue: (() => void | Promise<void>)[] = [];
  private scheduled = false;
  /** the run in progress, if any: its token marks the async context of its tasks */
  private running: { token: object; done: Promise<void> } | null = null;
  private inside = new AsyncLocalStorage<object>();
  private waiters: (() => void)[] = [];

  constructor(
    private onError: (err: unknown) => void,
    /** How a run is scheduled; a test holds it back to see what a crash before it leaves behind. */
    private schedule: (run: () => void) => void = (run) => void setImmediate(run),
  ) {}

  /** Queues work to run once `after` settles (a fan-out it must not slow down), or on the next turn. */
  defer(work: () => void | Promise<void>, after?: Promise<unknown>): void {
    this.queue.push(work);
    const kick = () => {
      if (this.scheduled) return;
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        void this.settle();
      });
    };
    if (after) after.then(kick, kick);
    else kick();
  }

  /**
   * Runs everything queued and resolves once it has run (joining a run in progress). Calls from inside a queued task
   * (a task reading its own writes, in its own async context) resolve at once: they must not wait for themselves.
   */
  async settle(): Promise<void> {
    const store = this.inside.getStore();
    if (store && store === this.running?.token) return;
    while (this.running || this.queue.length) {
      if (!this.running) {
        // marked running before the first task starts: it may settle synchronously, before its first await
        const token = {};
        let release!: () => void;
        this.running = { token, done: new Promise<void>((r) => (release = r)) };
        void this.inside.run(token, () => this.drain()).finally(() => {
          this.running = null;
          release();
          if (!this.queue.length) for (const w of this.waiters.splice(0)) w();
        });
      }
      await this.running.done;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const work = this.queue.shift()!;
      try {
        await work();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once nothing is queued. */
  idle(): Promise<void> {
    if (!this.queue.length && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
