import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, type TestServer } from './helpers/server.ts';
import { fakeClock } from './helpers/services.ts';

/**
 * Per-area rules on a real server with a hand-moved clock. Two communes under one province: Xã A keeps quiet hours
 * 21:00-05:00, Xã B 05:00-07:00 (both Asia/Ho_Chi_Minh, UTC+7); hamlet Ấp 1 of Xã A inherits, Ấp 2 sets none.
 */
const clock = fakeClock('2026-11-24T13:30:00Z'); // 20:30 in Việt Nam
const vn = (local: string) => Date.parse(local + '+07:00');
const iso = (local: string) => new Date(vn(local)).toISOString();
let srv: TestServer;
let tone = '';
let operator = '';
const changed: string[] = [];
const send = (body: Record<string, unknown>, token?: string) => srv.api('POST', '/api/broadcasts', { title: 'Thông báo', level: 'normal', source: { contentId: tone }, ...body }, token);
const patch = (id: string, body: unknown, token?: string) => srv.api('PATCH', `/api/areas/${id}`, body, token);

beforeAll(async () => {
  srv = await startServer({}, { clock });
  srv.app.loa.services.bus.on('area.policy_changed', (e) => changed.push(e.areaId));
  await provision(srv, 1, 'xa-a');
  await provision(srv, 1, 'xa-b');
  for (const id of ['ap-1', 'ap-2']) expect((await srv.api('POST', '/api/areas', { id, name: id, kind: 'hamlet', parentId: 'xa-a' })).status).toBe(201);
  await provision(srv, 1, 'ap-1');
  await provision(srv, 1, 'ap-2');
  expect((await patch('xa-a', { policy: { quietHours: '21:00-05:00' } })).status).toBe(200);
  expect((await patch('xa-b', { policy: { quietHours: '05:00-07:00' } })).status).toBe(200);
  expect((await patch('ap-2', { policy: { quietHours: '' } })).status).toBe(200);
  expect((await srv.api('POST', '/api/users', { username: 'op-a', password: 'mat-khau-dai-du-1', role: 'operator', areaIds: ['xa-a'] })).status).toBe(201);
  const login = await srv.api('POST', '/api/auth/login', { username: 'op-a', password: 'mat-khau-dai-du-1' }, '');
  operator = login.body.token;
  tone = await uploadTone(srv, 1);
}, 60_000);
afterAll(() => srv?.close());

describe('area policy', () => {
  it('inherits quiet hours from the commune; a hamlet overrides them with "" (none)', async () => {
    const [a, ap1, ap2] = await Promise.all(['xa-a', 'ap-1', 'ap-2'].map(async (id) => (await srv.api('GET', `/api/areas/${id}`)).body));
    expect(a).toMatchObject({ policy: { quietHours: '21:00-05:00' }, effectivePolicy: { quietHours: '21:00-05:00', timeZone: 'Asia/Ho_Chi_Minh', sessions: [] } });
    expect(ap1).toMatchObject({ policy: null, effectivePolicy: { quietHours: '21:00-05:00' } });
    expect(ap2).toMatchObject({ policy: { quietHours: '' }, effectivePolicy: { quietHours: '' } });
    expect(changed).toEqual(['xa-a', 'xa-b', 'ap-2']);
  });

  it('keeps session caps and tells listeners only when the rules change', async () => {
    const sessions = [{ name: 'Buổi sáng', from: '05:30', to: '07:00', maxMinutes: 60 }, { name: 'Buổi chiều', from: '17:00', to: '18:30', maxMinutes: 45 }];
    const r = await patch('xa-b', { policy: { quietHours: '05:00-07:00', sessions } });
    expect(r.status).toBe(200);
    expect(r.body.effectivePolicy.sessions).toEqual(sessions);
    expect(changed.at(-1)).toBe('xa-b');
    const n = changed.length;
    expect((await patch('xa-b', { name: 'Xã B' })).status).toBe(200);
    expect(changed).toHaveLength(n);
  });

  it.each([
    [{ timeZone: 'Asia/Hanoi' }, 'body/policy/timeZone'],
    [{ quietHours: '21:00-21:00' }, 'body/policy/quietHours'],
    [{ sessions: [{ name: 'Tối', from: '22:00', to: '01:00', maxMinutes: 30 }] }, 'body/policy/sessions/0/to'],
    [{ sessions: [{ name: 'Sáng', from: '06:00', to: '07:00', maxMinutes: 90 }] }, 'body/policy/sessions/0/maxMinutes'],
    [{ sessions: [{ name: 'Chiều', from: '17:00', to: '18:00', maxMinutes: 30 }, { name: 'Sáng', from: '06:00', to: '07:00', maxMinutes: 30 }, { name: 'Trưa', from: '06:30', to: '08:00', maxMinutes: 30 }] }, 'body/policy/sessions/2/from'],
  ])('refuses %j naming %s', async (policy, field) => {
    const r = await patch('ap-1', { policy });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
    expect((await srv.api('GET', '/api/areas/ap-1')).body.policy).toBeNull();
  });

  it('refuses a bad policy on a new area too', async () => {
    const r = await srv.api('POST', '/api/areas', { id: 'ap-3', name: 'Ấp 3', kind: 'hamlet', parentId: 'xa-a', policy: { timeZone: 'Mars/Olympus' } });
    expect(r).toMatchObject({ status: 400, body: { field: 'body/policy/timeZone' } });
    expect((await srv.api('GET', '/api/areas/ap-3')).status).toBe(404);
  });

  it('lets only an admin change the rules', async () => {
    const r = await patch('xa-a', { policy: { quietHours: '' } }, operator);
    expect(r.status).toBe(403);
    expect((await srv.api('GET', '/api/areas/xa-a', undefined, operator)).body.effectivePolicy.quietHours).toBe('21:00-05:00');
  });
});

describe('one-off broadcasts in quiet hours', () => {
  it("refuses a normal bulletin in the commune's quiet hours, with the first allowed time", async () => {
    const r = await send({ targets: { areaIds: ['xa-a'] }, startAt: iso('2026-11-24T22:00:00') });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('body/startAt');
    expect(r.body.message).toMatch(/^airing 1 would fall in quiet hours 21:00–05:00 \(Asia\/Ho_Chi_Minh\)/);
    expect(r.body.details).toEqual([{ kind: 'quiet_hours', message: r.body.message, field: 'body/startAt', at: iso('2026-11-24T22:00:00'), nextAllowed: iso('2026-11-25T05:00:00') }]);
    expect((await srv.api('GET', '/api/broadcasts')).body).toEqual([]);
  });

  it('reads the refusal to the officer in Vietnamese', async () => {
    const r = await send({ targets: { areaIds: ['ap-1'] }, startAt: iso('2026-11-24T23:00:00') });
    expect(r.status).toBe(400);
    expect(await consoleText(r.body.message)).toBe('Giờ này nằm trong giờ không phát (21:00–05:00); chỉ tin khẩn cấp được phát.');
  });

  it('refuses an airing that would run into quiet hours, and one whose repeat falls in them', async () => {
    const into = await send({ targets: { areaIds: ['xa-a'] }, startAt: iso('2026-11-24T20:59:59.500') });
    expect(into.body.details[0]).toMatchObject({ at: iso('2026-11-24T21:00:00'), nextAllowed: iso('2026-11-25T05:00:00') });
    const repeat = await send({ targets: { areaIds: ['xa-a'] }, startAt: iso('2026-11-24T20:40:00'), repeat: { count: 3, intervalS: 600 } });
    expect(repeat.body.message).toMatch(/^airing 3 /);
    expect(repeat.body.details[0].at).toBe(iso('2026-11-24T21:00:00'));
  });

  it('moves the start to the first allowed time when asked', async () => {
    const r = await send({ targets: { areaIds: ['xa-a'] }, startAt: iso('2026-11-24T22:00:00'), onQuietHours: 'move' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'scheduled', startAt: iso('2026-11-25T05:00:00') });
    expect((await srv.api('GET', `/api/broadcasts/${r.body.id}`)).body.startAt).toBe(iso('2026-11-25T05:00:00'));
  });

  it('moves every repeat clear of quiet hours, not only the first', async () => {
    const r = await send({ targets: { areaIds: ['ap-1'] }, startAt: iso('2026-11-24T20:40:00'), repeat: { count: 3, intervalS: 600 }, onQuietHours: 'move' });
    expect(r.body.startAt).toBe(iso('2026-11-25T05:00:00'));
  });

  it('airs in a hamlet that set no quiet hours, and holds a broadcast that also reaches the commune', async () => {
    expect((await send({ targets: { areaIds: ['ap-2'] }, startAt: iso('2026-11-24T22:00:00') })).status).toBe(201);
    const both = await send({ targets: { areaIds: ['ap-2', 'ap-1'] }, startAt: iso('2026-11-24T22:00:00') });
    expect(both.status).toBe(400);
  });

  it('airs an emergency at once in quiet hours', async () => {
    clock.t = vn('2026-11-24T21:30:00');
    const r = await send({ level: 'emergency', title: 'Cảnh báo lũ', targets: { areaIds: ['xa-a'] } });
    expect(r.status).toBe(201);
    expect(r.body.state).toBe('scheduled');
    expect(Date.parse(r.body.startAt) - clock.t).toBeLessThanOrEqual(srv.config.LOA_SYNC_LEAD_MS);
    clock.t = Date.parse('2026-11-24T13:30:00Z');
  });

  it("keeps a broadcast over two communes clear of each one's quiet hours", async () => {
    const targets = { areaIds: ['xa-a', 'xa-b'] };
    // 04:30: Xã A is quiet until 05:00, then Xã B from 05:00 to 07:00.
    const refused = await send({ targets, startAt: iso('2026-11-25T04:30:00') });
    expect(refused.body.details[0]).toMatchObject({ kind: 'quiet_hours', nextAllowed: iso('2026-11-25T07:00:00') });
    const moved = await send({ targets, startAt: iso('2026-11-25T04:30:00'), onQuietHours: 'move' });
    expect(moved.body.startAt).toBe(iso('2026-11-25T07:00:00'));
    // 06:00 is quiet in Xã B only.
    expect((await send({ targets: { areaIds: ['xa-a'] }, startAt: iso('2026-11-25T06:00:00') })).status).toBe(201);
    expect((await send({ targets, startAt: iso('2026-11-25T06:00:00') })).body.message).toMatch(/05:00–07:00/);
  });
});

/** The console's translation of a server message, as a Vietnamese-speaking officer sees it. */
async function consoleText(message: string): Promise<string> {
  const store = new Map<string, string>([['loa.locale', 'vi']]);
  (globalThis as any).localStorage ??= { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => store.set(k, v) };
  const { messageText } = await import('../web/src/i18n/index.ts');
  return messageText(message);
}
