/**
 * Work that must follow an action at once but need not hold up its answer: the per-cluster bookkeeping behind a
 * fan-out (manifest rows, the airing log). It runs on the next turn of the event loop, after the answer is written.
 * Whoever reads what it writes calls `settle()` first, so no read ever sees the world without it; what is lost to a
 * crash before it ran is redone at start-up by its owner (BroadcastsService.deliverDue).
 */
export class Backlog {
  private queue: (() => void)[] = [];
  private scheduled = false;
  private running = false;
  private waiters: (() => void)[] = [];

  constructor(
    private onError: (err: unknown) => void,
    /** How a run is scheduled; a test holds it back to see what a crash before it leaves behind. */
    private schedule: (run: () => void) => void = (run) => void setImmediate(run),
  ) {}

  /** Queues work to run once `after` settles (a fan-out it must not slow down), or on the next turn. */
  defer(work: () => void, after?: Promise<unknown>): void {
    this.queue.push(work);
    const kick = () => {
      if (this.scheduled) return;
      this.scheduled = true;
      this.schedule(() => {
        this.scheduled = false;
        this.settle();
      });
    };
    if (after) after.then(kick, kick);
    else kick();
  }

  /** Runs everything queued, now. Re-entrant calls (a queued task reading its own writes) return at once. */
  settle(): void {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const work = this.queue.shift()!;
        try {
          work();
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.running = false;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once nothing is queued. */
  idle(): Promise<void> {
    if (!this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
