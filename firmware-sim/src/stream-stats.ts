/** Per-item figures of live-stream playout (stream-airing.ts), for tests and benchmarks. */

/** What `SimCluster.streamStats(itemId)` shows. Errors are trueMs − target: against a server on true time. */
export interface StreamStatsView {
  pagesPlayed: number;
  droppedLate: number;
  underruns: number;
  /** Sum of the underrun gaps, ms. */
  gapMs: number;
  maxAbsErrorMs: number;
  medianAbsErrorMs: number;
}

/** Errors kept for the median (the first this many pages: ~1 h of 40 ms pages). */
const KEEP_ERRORS = 100_000;

export class StreamStats {
  pagesPlayed = 0;
  droppedLate = 0;
  underruns = 0;
  gapMs = 0;
  private maxAbs = 0;
  private readonly abs: number[] = [];

  played(errorMs: number): void {
    this.pagesPlayed++;
    const a = Math.abs(errorMs);
    this.maxAbs = Math.max(this.maxAbs, a);
    if (this.abs.length < KEEP_ERRORS) this.abs.push(a);
  }

  underrun(gapMs: number): void {
    this.underruns++;
    this.gapMs += gapMs;
  }

  view(): StreamStatsView {
    const s = [...this.abs].sort((a, b) => a - b);
    const median = s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : 0;
    return {
      pagesPlayed: this.pagesPlayed,
      droppedLate: this.droppedLate,
      underruns: this.underruns,
      gapMs: Math.round(this.gapMs * 10) / 10,
      maxAbsErrorMs: this.maxAbs,
      medianAbsErrorMs: median,
    };
  }
}
