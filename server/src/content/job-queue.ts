/**
 * Runs at most `concurrency` jobs at once; the rest wait in arrival order. Transcoding is CPU-bound ffmpeg work, so
 * this is what keeps a burst of uploads from starving the broker and the HTTP server on a 2-core commune box.
 */
export class JobQueue {
  private running = 0;
  private waiting: (() => void)[] = [];
  constructor(readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new Error('concurrency must be at least 1');
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else await new Promise<void>((wake) => this.waiting.push(wake)); // the finishing job hands its slot over
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }
}
