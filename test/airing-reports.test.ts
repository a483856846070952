import { describe, expect, it } from 'vitest';
import type { AiringReport } from '../schemas/device-protocol/playback.ts';
import { AiringsService } from '../server/src/broadcasts/airings.service.ts';
import { AiringsRepo } from '../server/src/broadcasts/airings.repo.ts';
import { createDb } from '../server/src/db/client.ts';
import { Bus } from '../server/src/shared/bus.ts';

/** Proof of play on the server: a report repeated, by id or by state, changes nothing (issue 8 §5). */
describe('airing reports', () => {
  const setup = async () => {
    const db = createDb(':memory:');
    // The airing log alone: no broadcast or cluster rows behind it.
    db.sqlite.pragma('foreign_keys = OFF');
    let now = 1_000_000;
    const bus = new Bus();
    const events: string[] = [];
    bus.on('airing.report', (p) => events.push(p.state));
    const s = new AiringsService(new AiringsRepo(db), bus, { now: () => now });
    await s.plan('bc-1', [{ clusterId: 'cl-1', outputs: null, scheduledAt: () => 2_000_000 }], 1);
    const report = (id: string, state: AiringReport['state'], serverTs: number) => {
      now += 1000;
      return s.report('cl-1', { id, itemId: 'it-1', broadcastId: 'bc-1', seq: 0, state, ts: serverTs, serverTs });
    };
    return { s, db, events, report };
  };

  it('keeps a report re-sent with its id (a PUBACK lost to a reboot) once', async () => {
    const { s, events, report } = await setup();
    expect(await report('a-1', 'received', 1_000_100)).toBe(true);
    expect(await report('a-2', 'downloaded', 1_000_200)).toBe(true);
    const before = await s.list('bc-1');
    expect(await report('a-2', 'downloaded', 1_000_200)).toBe(false);
    expect(await s.list('bc-1')).toEqual(before);
    expect(events).toEqual(['received', 'downloaded']);
  });

  it('ignores the same state again under another id: no field, not even updatedAt, changes', async () => {
    const { s, db, events, report } = await setup();
    await report('a-1', 'received', 1_000_100);
    await report('a-2', 'downloaded', 1_000_200);
    const before = await s.list('bc-1');
    expect(before[0]).toMatchObject({ state: 'downloaded', downloadedAt: 1_000_200 });
    expect(await report('a-3', 'downloaded', 1_000_900)).toBe(false);
    expect(await s.list('bc-1')).toEqual(before);
    expect(events).toEqual(['received', 'downloaded']);
    // What the device sent is still in the log.
    expect((db.sqlite.prepare('select count(*) n from airing_reports').get() as { n: number }).n).toBe(3);
    // A later state still moves the airing on.
    expect(await report('a-4', 'started', 1_001_000)).toBe(true);
    expect((await s.list('bc-1'))[0]).toMatchObject({ state: 'started', downloadedAt: 1_000_200, startedAt: 1_001_000 });
  });

  it('commits reports from devices in batches, each answered once its batch is stored, one bad report failing alone', async () => {
    const db = createDb(':memory:');
    db.sqlite.pragma('foreign_keys = OFF');
    const bus = new Bus();
    const events: string[] = [];
    bus.on('airing.report', (p) => events.push(`${p.clusterId}:${p.state}`));
    const s = new AiringsService(new AiringsRepo(db), bus, { now: () => 1_000_000 });
    const ids = Array.from({ length: 2500 }, (_, i) => `cl-${i}`);
    await s.plan('bc-1', ids.map((clusterId) => ({ clusterId, outputs: null, scheduledAt: () => 2_000_000 })), 1);
    const stored = () => (db.sqlite.prepare('select count(*) n from airing_reports').get() as { n: number }).n;
    const bad = { id: 'bad', itemId: 'it-1', broadcastId: 'bc-1', seq: 0, state: null, ts: 1 } as unknown as AiringReport;
    const answers = ids.map((id, i) => {
      const p = s.submit(id, { id: `r-${i}`, itemId: 'it-1', broadcastId: 'bc-1', seq: 0, state: 'received', ts: 1_000_100, serverTs: 1_000_100 });
      // Whether a report resolved is checked against the table: a device may be told "stored" only once it is.
      return p.then((applied) => ({ applied, durable: (db.sqlite.prepare('select 1 from airing_reports where cluster_id = ? and report_id = ?').get(id, `r-${i}`) ?? null) !== null }));
    });
    const failed = s.submit('cl-0', bad).then(() => 'resolved', (e: Error) => e.message);
    // A full batch (1,000) commits at once, without waiting for the next turn (commits are asynchronous now).
    let turned = false;
    setImmediate(() => (turned = true));
    expect(await answers[0].then(() => turned)).toBe(false);
    const out = await Promise.all(answers);
    expect(out.every((o) => o.applied && o.durable)).toBe(true);
    expect(await failed).toMatch(/NOT NULL/);
    expect(stored()).toBe(2500);
    expect(events).toHaveLength(2500);
    expect(await s.summary('bc-1', { name: (id) => id, online: () => true, offlineSince: () => null })).toMatchObject({ targeted: 2500, received: 2500 });
    // The same report again (a PUBACK lost): answered, changes nothing.
    expect(await s.submit('cl-1', { id: 'r-1', itemId: 'it-1', broadcastId: 'bc-1', seq: 0, state: 'received', ts: 1_000_100, serverTs: 1_000_100 })).toBe(false);
    expect(events).toHaveLength(2500);
  });
});
