import fc from 'fast-check';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgrammeInput } from '../schemas/api/programmes.ts';
import { createDb } from '../server/src/db/client.ts';
import type { Services } from '../server/src/services.ts';
import { systemActor, type Actor } from '../server/src/shared/actor.ts';
import { fakeClock, ingestTone, servicesOn } from './helpers/services.ts';

/**
 * Issue 11: whatever programmes officers make and whenever the planner happens to run, materialisation is
 * idempotent (a second run at the same moment plans nothing), never plans two normal airings overlapping on a
 * cluster, never plans an airing inside quiet hours, and never holds one occurrence twice.
 *
 * Real services over a real SQLite file (a copy of one seeded template per run), a fake clock, quiet hours
 * 21:00-05:00, programmes near both edges of them, a 90-second item that runs over minute boundaries.
 */
const H = 3_600_000;
const admin: Actor = { id: 'u-admin', name: 'admin', role: 'admin', scope: 'all' };
const dir = mkdtempSync(join(tmpdir(), 'loa-planprop-'));
const template = join(dir, 'template.sqlite');
let contents: string[] = [];
let clusters: string[] = [];
const noPublish = { publish: async () => undefined };

beforeAll(async () => {
  const clock = fakeClock('2026-11-24T01:00:00Z');
  const db = createDb(template);
  const s = await servicesOn(db, dir, clock, noPublish);
  await s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune', policy: { quietHours: '21:00-05:00' } });
  clusters = (await s.clusters.create([1, 2, 3].map((i) => ({ name: `Cụm ${i}`, areaId: 'xa', serial: `PP${i}`, outputs: [{ index: 0, label: 'Loa' }] })), systemActor('test'))).map((c) => c.clusterId);
  contents = [(await ingestTone(s, dir, admin, 2)).id, (await ingestTone(s, dir, admin, 90, 330)).id];
  db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  db.sqlite.close();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const times = fc.constantFrom('04:58', '05:00', '05:00', '05:01', '05:30', '12:00', '20:58', '20:59', '21:00');
const recurrence = fc.oneof(
  fc.constant({ kind: 'daily' as const }),
  fc.record({ kind: fc.constant('weekly' as const), weekdays: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }) }),
  fc.record({ kind: fc.constant('lunar' as const), days: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }) }),
);
const programme = fc.record({
  time: times,
  recurrence,
  targets: fc.subarray([0, 1, 2], { minLength: 1 }),
  item: fc.integer({ min: 0, max: 1 }),
  level: fc.constantFrom('normal' as const, 'normal' as const, 'priority' as const),
  onClash: fc.constantFrom('refuse' as const, 'shift' as const, 'first' as const),
  onQuietHours: fc.constantFrom('refuse' as const, 'move' as const),
});
// Between runs the commune may change its quiet hours: what was planned before and now falls inside is flagged, not aired silently.
const steps = fc.array(fc.record({ hours: fc.integer({ min: 0, max: 30 }), twice: fc.boolean(), quiet: fc.constantFrom(null, null, '21:00-05:00', '20:30-05:15', '') }), { minLength: 1, maxLength: 5 });

async function check(s: Services, before: Set<string>, changedAt: number) {
  const quiet = s.areas.policy('xa').quiet;
  const rows = await s.ledger.between(0, Date.parse('2100-01-01'));
  const planned = rows.filter((r) => r.state === 'planned');
  const perOccurrence = new Set<string>();
  for (const r of rows.filter((x) => x.state !== 'superseded')) {
    const k = `${r.programmeId}:${r.occurrenceAt}`;
    expect(perOccurrence.has(k), `occurrence ${k} held twice`).toBe(false);
    perOccurrence.add(k);
  }
  for (const r of planned) {
    // Already on air or over when the rules changed: nothing to flag.
    if (!quiet || r.startAt < changedAt || quiet.intervals(r.startAt, r.endAt).length === 0) continue;
    expect(before.has(`${r.programmeId}:${r.version}:${r.occurrenceAt}`) && r.flag === 'quiet_hours', `planned in quiet hours: ${new Date(r.startAt).toISOString()}`).toBe(true);
  }
  const normal = (await Promise.all(planned.map(async (r) => ({ r, e: (await s.catalog.entryOf(r.programmeId, r.version))! })))).filter((x) => x.e.body.level === 'normal');
  for (let i = 0; i < normal.length; i++)
    for (let j = i + 1; j < normal.length; j++) {
      const a = normal[i];
      const b = normal[j];
      const shared = [...a.e.targets!.clusters.keys()].some((c) => b.e.targets!.clusters.has(c));
      const overlap = a.r.startAt < b.r.endAt && b.r.startAt < a.r.endAt;
      expect(shared && overlap, `${a.e.programme.name} and ${b.e.programme.name} overlap`).toBe(false);
    }
}

describe('planner (property)', () => {
  it('is idempotent and never plans overlapping normal airings or airings in quiet hours', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(programme, { minLength: 1, maxLength: 7 }), steps, async (progs, plan) => {
        const file = join(dir, `run-${run++}.sqlite`);
        copyFileSync(template, file);
        const db = createDb(file);
        try {
          const clock = fakeClock('2026-11-24T01:00:00Z');
          const s = await servicesOn(db, dir, clock, noPublish);
          for (const [i, p] of progs.entries()) {
            const input: ProgrammeInput = {
              name: `P${i}`,
              areaId: 'xa',
              targets: { clusterIds: p.targets.map((t) => clusters[t]) },
              level: p.level,
              items: [{ type: 'content', contentId: contents[p.item] }],
              schedule: { recurrence: p.recurrence, time: p.time },
              onClash: p.onClash,
              onQuietHours: p.onQuietHours,
            };
            await s.programmes.create(input, admin).catch((e) => {
              if (![400, 409].includes(e.statusCode)) throw e; // refused at save: a quiet-hours or clash problem
            });
          }
          // Rows planned before the last change of quiet hours: the only ones that may lie inside them (flagged).
          let before = new Set<string>();
          let changedAt = 0;
          for (const step of plan) {
            clock.t += step.hours * H;
            if (step.quiet !== null && step.quiet !== s.areas.policy('xa').quietHours) {
              await s.areas.update('xa', { policy: { quietHours: step.quiet } });
              s.catalog.invalidate();
              changedAt = clock.t;
              before = new Set((await s.ledger.between(0, Date.parse('2100-01-01'))).filter((r) => r.state === 'planned').map((r) => `${r.programmeId}:${r.version}:${r.occurrenceAt}`));
            }
            await s.planner.run();
            await check(s, before, changedAt);
            if (step.twice) expect(await s.planner.run()).toMatchObject({ planned: 0, missed: 0, moved: 0 });
          }
        } finally {
          db.sqlite.close();
          rmSync(file, { force: true });
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
