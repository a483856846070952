import { describe, expect, it } from 'vitest';
import type { AiringReport } from '../schemas/device-protocol/playback.ts';
import { AiringsService } from '../server/src/broadcasts/airings.service.ts';
import { AiringsRepo } from '../server/src/broadcasts/airings.repo.ts';
import { createDb } from '../server/src/db/client.ts';
import { Bus } from '../server/src/shared/bus.ts';

/** A device that airs one item more than once (restarted while it was unexpired): each attempt kept apart (issue 8 §2). */
describe('airing attempts', () => {
  const setup = () => {
    const db = createDb(':memory:');
    db.$client.pragma('foreign_keys = OFF'); // the airing log alone
    let now = 1_000_000;
    const s = new AiringsService(new AiringsRepo(db), new Bus(), { now: () => now });
    s.plan('bc-1', [{ clusterId: 'cl-1', outputs: null, scheduledAt: () => 2_000_000 }], 1);
    let k = 0;
    const report = (state: AiringReport['state'], at: number, reason?: string) => {
      now += 100;
      return s.report('cl-1', { id: `r-${k++}`, itemId: 'it-1', broadcastId: 'bc-1', seq: 0, state, ts: at, serverTs: at, ...(reason ? { reason } : {}) });
    };
    const row = () => s.list('bc-1')[0];
    return { s, report, row };
  };

  it('keeps the first complete airing in the row and every re-airing as its own attempt, not one long span', () => {
    const { s, report, row } = setup();
    report('received', 1_900_000);
    report('downloaded', 1_950_000);
    report('started', 2_000_000);
    report('finished', 2_060_000);
    // restarted: it airs the unexpired item again, twice
    report('started', 2_070_000);
    report('finished', 2_130_000);
    report('started', 2_140_000);
    report('finished', 2_200_000);
    expect(row()).toMatchObject({ state: 'finished', startedAt: 2_000_000, finishedAt: 2_060_000, reason: null });
    expect(s.attempts('bc-1', 'cl-1', 0)).toEqual([
      { startedAt: 2_000_000, endedAt: 2_060_000, state: 'finished', reason: null },
      { startedAt: 2_070_000, endedAt: 2_130_000, state: 'finished', reason: null },
      { startedAt: 2_140_000, endedAt: 2_200_000, state: 'finished', reason: null },
    ]);
  });

  it('does not let a later failure stick its reason to a finished airing', () => {
    const { s, report, row } = setup();
    report('started', 2_000_000);
    report('finished', 2_060_000);
    report('started', 2_070_000);
    report('failed', 2_080_000, 'download_failed');
    expect(row()).toMatchObject({ state: 'finished', startedAt: 2_000_000, finishedAt: 2_060_000, reason: null });
    expect(s.attempts('bc-1', 'cl-1', 0).map((a) => [a.state, a.reason])).toEqual([['finished', null], ['failed', 'download_failed']]);
  });

  it('clears the reason of an early failure once the airing finishes after all', () => {
    const { report, row } = setup();
    report('failed', 1_950_000, 'download_failed');
    expect(row()).toMatchObject({ state: 'failed', reason: 'download_failed' });
    report('downloaded', 1_990_000);
    report('started', 2_000_000);
    expect(row()).toMatchObject({ state: 'started', reason: null, startedAt: 2_000_000 });
    report('finished', 2_060_000);
    expect(row()).toMatchObject({ state: 'finished', reason: null, startedAt: 2_000_000, finishedAt: 2_060_000 });
  });

  it('gives an airing restarted after a reboot the span of the attempt that finished', () => {
    const { report, row } = setup();
    report('started', 2_000_000);
    report('failed', 2_010_000, 'reboot');
    report('started', 2_030_000);
    report('finished', 2_090_000);
    expect(row()).toMatchObject({ state: 'finished', startedAt: 2_030_000, finishedAt: 2_090_000, reason: null });
  });

  it('still pairs a start and an end that arrive out of order', () => {
    const { report, row } = setup();
    report('finished', 2_060_000);
    report('started', 2_000_000);
    expect(row()).toMatchObject({ state: 'finished', startedAt: 2_000_000, finishedAt: 2_060_000 });
    // and an older start arriving after a failure does not reopen it
    const b = setup();
    b.report('started', 2_000_000);
    b.report('failed', 2_010_000, 'reboot');
    b.report('started', 2_000_000);
    expect(b.row()).toMatchObject({ state: 'failed', reason: 'reboot' });
  });
});
