import { describe, expect, it } from 'vitest';
import type { AiringReport } from '../schemas/device-protocol/playback.ts';
import { AiringsService } from '../server/src/broadcasts/airings.service.ts';
import { AiringsRepo } from '../server/src/broadcasts/airings.repo.ts';
import { createDb } from '../server/src/db/client.ts';
import { Bus } from '../server/src/shared/bus.ts';

/** A device that airs one item more than once (restarted while it was unexpired): each attempt kept apart (issue 8 §2). */
describe('airing attempts', () => {
  const setup = async () => {
    const db = createDb(':memory:');
    db.sqlite.pragma('foreign_keys = OFF'); // the airing log alone
    let now = 1_000_000;
    const s = new AiringsService(new AiringsRepo(db), new Bus(), { now: () => now });
    await s.plan('bc-1', [{ clusterId: 'cl-1', outputs: null, scheduledAt: () => 2_000_000 }], 1);
    let k = 0;
    const report = (state: AiringReport['state'], at: number, reason?: string) => {
      now += 100;
      return s.report('cl-1', { id: `r-${k++}`, itemId: 'it-1', broadcastId: 'bc-1', seq: 0, state, ts: at, serverTs: at, ...(reason ? { reason } : {}) });
    };
    const row = async () => (await s.list('bc-1'))[0];
    return { s, report, row };
  };

  it('keeps the first complete airing in the row and every re-airing as its own attempt, not one long span', async () => {
    const { s, report, row } = await setup();
    await report('received', 1_900_000);
    await report('downloaded', 1_950_000);
    await report('started', 2_000_000);
    await report('finished', 2_060_000);
    // restarted: it airs the unexpired item again, twice
    await report('started', 2_070_000);
    await report('finished', 2_130_000);
    await report('started', 2_140_000);
    await report('finished', 2_200_000);
    expect(await row()).toMatchObject({ state: 'finished', startedAt: 2_000_000, finishedAt: 2_060_000, reason: null });
    expect(await s.attempts('bc-1', 'cl-1', 0)).toEqual([
      { startedAt: 2_000_000, endedAt: 2_060_000, state: 'finished', reason: null },
      { startedAt: 2_070_000, endedAt: 2_130_000, state: 'finished', reason: null },
      { startedAt: 2_140_000, endedAt: 2_200_000, state: 'finished', reason: null },
    ]);
  });

  it('does not let a later failure stick its reason to a finished airing', async () => {
    const { s, report, row } = await setup();
    await report('started', 2_000_000);
    await report('finished', 2_060_000);
    await report('started', 2_070_000);
    await report('failed', 2_080_000, 'download_failed');
    expect(await row()).toMatchObject({ state: 'finished', startedAt: 2_000_000, finishedAt: 2_060_000, reason: null });
    expect((await s.attempts('bc-1', 'cl-1', 0)).map((a) => [a.state, a.reason])).toEqual([['finished', null], ['failed', 'download_failed']]);
  });

  it('clears the reason of an early failure once the airing finishes after all', async () => {
    const { report, row } = await setup();
    await report('failed', 1_950_000, 'download_failed');
    expect(await row()).toMatchObject({ state: 'failed', reason: 'download_failed' });
    await report('downloaded', 1_990_000);
    await report('started', 2_000_000);
    expect(await row()).toMatchObject({ state: 'started', reason: null, startedAt: 2_000_000 });
    await report('finished', 2_060_000);
    expect(await row()).toMatchObject({ state: 'finished', reason: null, startedAt: 2_000_000, finishedAt: 2_060_000 });
  });

  it('gives an airing restarted after a reboot the span of the attempt that finished', async () => {
    const { report, row } = await setup();
    await report('started', 2_000_000);
    await report('failed', 2_010_000, 'reboot');
    await report('started', 2_030_000);
    await report('finished', 2_090_000);
    expect(await row()).toMatchObject({ state: 'finished', startedAt: 2_030_000, finishedAt: 2_090_000, reason: null });
  });

  it('still pairs a start and an end that arrive out of order', async () => {
    const { report, row } = await setup();
    await report('finished', 2_060_000);
    await report('started', 2_000_000);
    expect(await row()).toMatchObject({ state: 'finished', startedAt: 2_000_000, finishedAt: 2_060_000 });
    // and an older start arriving after a failure does not reopen it
    const b = await setup();
    await b.report('started', 2_000_000);
    await b.report('failed', 2_010_000, 'reboot');
    await b.report('started', 2_000_000);
    expect(await b.row()).toMatchObject({ state: 'failed', reason: 'reboot' });
  });
});
