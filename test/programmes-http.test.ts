import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

/** The programme and timetable API from outside: roles, errors naming the field, clashes with their details, .ics. */
let srv: TestServer;
let tone = '';
let cluster = '';
const PW = 'mat-khau-rat-dai-2026';
const token = async (username: string, role: string) => {
  expect((await srv.api('POST', '/api/users', { username, password: PW, role, areaIds: ['test-commune'] })).status).toBe(201);
  const r = await srv.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: PW } });
  return r.json().token as string;
};
const body = (over: Record<string, unknown> = {}) => ({
  name: 'Bản tin sáng',
  areaId: 'test-commune',
  targets: { clusterIds: [cluster] },
  level: 'normal',
  items: [{ type: 'content', contentId: tone }],
  schedule: { recurrence: { kind: 'daily' }, time: '05:30' },
  ...over,
});

beforeAll(async () => {
  srv = await startServer();
  [{ id: cluster }] = await provision(srv, 1);
  tone = await uploadTone(srv, 1);
}, 60_000);
afterAll(() => srv?.close());

describe('programmes over HTTP', () => {
  it('needs a session, and an editor role to change anything', async () => {
    expect((await srv.api('GET', '/api/programmes', undefined, '')).status).toBe(401);
    expect((await srv.api('GET', '/api/timetable?areaId=test-commune', undefined, '')).status).toBe(401);
    expect((await srv.api('GET', '/api/timetable.ics?areaId=test-commune', undefined, '')).status).toBe(401);
    const viewer = await token('xem', 'viewer');
    expect((await srv.api('POST', '/api/programmes', body(), viewer)).status).toBe(403);
    expect((await srv.api('GET', '/api/programmes', undefined, viewer)).status).toBe(200);
    expect((await srv.api('GET', '/api/jobs', undefined, viewer)).status).toBe(403);
    const jobs = await srv.api('GET', '/api/jobs');
    expect(jobs.body.map((j: { name: string }) => j.name).sort()).toEqual(['broadcast-window', 'planner']);
  });

  it('names the field of bad input', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ level: 'emergency' }, 'level'],
      [{ schedule: { recurrence: { kind: 'rrule', rule: 'FREQ=WEEKLY;BYDAY=MO' }, time: '05:30' } }, 'body/schedule/from'],
      [{ schedule: { recurrence: { kind: 'daily' }, time: '25:00' } }, 'time'],
      [{ areaId: 'khong-co' }, 'body/areaId'],
      [{ items: [{ type: 'content', contentId: 'khong-co' }] }, 'body/items/0'],
      [{ targets: { clusterIds: ['khong-co'] } }, 'body/targets/clusterIds/0'],
      [{ items: [] }, 'items'],
    ];
    for (const [over, field] of cases) {
      const r = await srv.api('POST', '/api/programmes', body(over));
      expect(r.status, JSON.stringify(over)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(`${r.body.field ?? ''} ${r.body.message}`, JSON.stringify(over)).toContain(field);
    }
  });

  it('creates, previews a clash, refuses it with details, and exports the timetable', async () => {
    const a = await srv.api('POST', '/api/programmes', body());
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ state: 'active', live: { version: 1, durationMs: expect.any(Number) } });
    expect(a.body.next).toHaveLength(10);
    expect(a.body.next[0]).toMatchObject({ time: '05:30', lunar: { day: expect.any(Number), month: expect.any(Number) } });
    const preview = await srv.api('POST', '/api/programmes/preview', body({ name: 'Thông báo' }));
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ clusters: 1, problems: [{ kind: 'conflict', clash: { programmeId: a.body.id, name: 'Bản tin sáng' } }] });
    const own = await srv.api('POST', `/api/programmes/preview?programmeId=${a.body.id}`, body());
    expect(own.body.problems).toEqual([]);
    const clash = await srv.api('POST', '/api/programmes', body({ name: 'Thông báo' }));
    expect(clash.status).toBe(409);
    expect(clash.body.details[0]).toMatchObject({ kind: 'conflict', clash: { clusterCount: 1 } });
    expect((await srv.api('POST', '/api/programmes', body({ name: 'Thông báo', onClash: 'shift' }))).status).toBe(201);

    const tt = await srv.api('GET', '/api/timetable?areaId=test-commune');
    expect(tt.status).toBe(200);
    expect(tt.body.entries.filter((e: { title: string }) => e.title === 'Bản tin sáng').length).toBeGreaterThanOrEqual(6);
    const ics = await srv.app.inject({ method: 'GET', url: '/api/timetable.ics?areaId=test-commune', headers: { authorization: `Bearer ${srv.token}` } });
    expect(ics.statusCode).toBe(200);
    expect(ics.headers['content-type']).toContain('text/calendar');
    expect(ics.body).toContain('SUMMARY:Bản tin sáng');

    // The planner picks a change up within seconds, not at its next minute: planned, then withdrawn on delete.
    const planned = await waitFor(async () => {
      const t = await srv.api('GET', '/api/timetable?areaId=test-commune');
      const ids = t.body.entries.filter((e: { programmeId: string; broadcastId: string | null }) => e.programmeId === a.body.id && e.broadcastId).map((e: { broadcastId: string }) => e.broadcastId);
      return ids.length >= 1 ? ids : null;
    }, 10_000);
    for (const id of planned) expect((await srv.api('GET', `/api/broadcasts/${id}`)).body.state).toBe('scheduled');
    expect((await srv.api('DELETE', `/api/programmes/${a.body.id}`)).status).toBe(204);
    expect((await srv.api('GET', `/api/programmes/${a.body.id}`)).body.state).toBe('deleted');
    await waitFor(async () => {
      for (const id of planned) if ((await srv.api('GET', `/api/broadcasts/${id}`)).body.state !== 'cancelled') return null;
      return true;
    }, 10_000);
  });
});
