/**
 * Airing reports (docs/device-protocol.md §10.7): one per state change of an airing, with an id unique for the
 * device's life, the device's time and its estimate of server time. They go to the cluster's outbox.
 */
import type { AiringReport, AiringState } from '../../schemas/device-protocol/index.ts';
import type { Held, PlaybackHost } from './playback-types.ts';

export class AiringReporter {
  private reportSeq = 0;
  private readonly reportBase: string;

  constructor(private readonly h: PlaybackHost) {
    // Unique for the device's life: the power-on instant (ms, base 36) and a counter that survives reboots.
    this.reportBase = Math.floor(h.clock.trueNow()).toString(36);
  }

  report(x: Held, seq: number, state: AiringState, extra: { positionMs?: number; reason?: string; gapMs?: number } = {}): void {
    // `ts` and `serverTs` stamp one instant: from one clock reading (two can be ms apart on a busy CPU).
    const dev = this.h.clock.now();
    const r: AiringReport = {
      id: `a-${this.reportBase}-${(++this.reportSeq).toString(36)}`,
      itemId: x.item.id,
      broadcastId: x.item.broadcastId,
      seq,
      state,
      ts: Math.round(dev),
      serverTs: this.serverTs(dev),
      ...(extra.positionMs !== undefined ? { positionMs: Math.round(extra.positionMs) } : {}),
      ...(extra.reason !== undefined ? { reason: extra.reason } : {}),
      ...(extra.gapMs !== undefined ? { gapMs: Math.round(extra.gapMs) } : {}),
    };
    this.h.report(r);
  }

  private serverTs(dev: number): number | null {
    const off = this.h.offset();
    return off === null ? null : Math.round((dev + off) * 10) / 10;
  }
}
