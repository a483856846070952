import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuietHours } from '../server/src/broadcasts/quiet-hours.ts';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, type TestServer } from './helpers/server.ts';

const vnTime = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);

describe('quiet hours window', () => {
  const q = parseQuietHours('21:00-05:00', 'Asia/Ho_Chi_Minh')!;
  it.each([
    ['2026-11-24T13:59:00Z', false], // 20:59 in Việt Nam
    ['2026-11-24T14:00:00Z', true], // 21:00
    ['2026-11-24T17:00:00Z', true], // 00:00
    ['2026-11-24T21:59:00Z', true], // 04:59
    ['2026-11-24T22:00:00Z', false], // 05:00
  ])('%s in quiet hours: %s', (t, expected) => expect(q.covers(Date.parse(t))).toBe(expected));
  it('handles a window inside one day and refuses a malformed one', () => {
    const noon = parseQuietHours('11:30-13:30', 'Asia/Ho_Chi_Minh')!;
    expect(noon.covers(Date.parse('2026-11-24T05:00:00Z'))).toBe(true); // 12:00
    expect(noon.covers(Date.parse('2026-11-24T07:00:00Z'))).toBe(false); // 14:00
    expect(() => parseQuietHours('9pm-5am', 'Asia/Ho_Chi_Minh')).toThrow(/21:00-05:00/);
    expect(parseQuietHours('', 'Asia/Ho_Chi_Minh')).toBeNull();
  });
});

describe('quiet hours as instants', () => {
  const vn = (local: string) => Date.parse(local + '+07:00');
  const night = parseQuietHours('21:00-05:00', 'Asia/Ho_Chi_Minh')!;
  const noon = parseQuietHours('11:30-13:30', 'Asia/Ho_Chi_Minh')!;
  const MIN = 60_000;

  it('lists a window over midnight once, including the one that began the evening before', () => {
    expect(night.intervals(vn('2026-11-25T02:00:00'), vn('2026-11-25T23:00:00'))).toEqual([
      { from: vn('2026-11-24T21:00:00'), to: vn('2026-11-25T05:00:00') },
      { from: vn('2026-11-25T21:00:00'), to: vn('2026-11-26T05:00:00') },
    ]);
    expect(night.intervals(vn('2026-11-25T05:00:00'), vn('2026-11-25T21:00:00'))).toEqual([]); // both ends open
  });

  it('lists a window inside one day', () => {
    expect(noon.intervals(vn('2026-11-25T00:00:00'), vn('2026-11-26T12:00:00'))).toEqual([
      { from: vn('2026-11-25T11:30:00'), to: vn('2026-11-25T13:30:00') },
      { from: vn('2026-11-26T11:30:00'), to: vn('2026-11-26T13:30:00') },
    ]);
  });

  it('finds the first start clear of a window over midnight', () => {
    expect(night.nextAllowed(vn('2026-11-24T23:15:00'), 5 * MIN)).toBe(vn('2026-11-25T05:00:00'));
    expect(night.nextAllowed(vn('2026-11-25T03:00:00'), 5 * MIN)).toBe(vn('2026-11-25T05:00:00'));
    expect(night.nextAllowed(vn('2026-11-25T18:00:00'), 5 * MIN)).toBe(vn('2026-11-25T18:00:00'));
  });

  it('moves an airing that would run into the window past it, and keeps one that ends as it opens', () => {
    expect(noon.nextAllowed(vn('2026-11-25T11:20:00'), 15 * MIN)).toBe(vn('2026-11-25T13:30:00'));
    expect(noon.nextAllowed(vn('2026-11-25T11:15:00'), 15 * MIN)).toBe(vn('2026-11-25T11:15:00'));
    expect(night.nextAllowed(vn('2026-11-25T20:50:00'), 20 * MIN)).toBe(vn('2026-11-26T05:00:00'));
  });

  it('reads the window in the area\'s own time zone', () => {
    const tokyo = parseQuietHours('21:00-05:00', 'Asia/Tokyo')!; // UTC+9: 21:00 there is 19:00 in Việt Nam
    expect(tokyo.covers(vn('2026-11-25T19:30:00'))).toBe(true);
    expect(tokyo.nextAllowed(vn('2026-11-25T19:30:00'), MIN)).toBe(vn('2026-11-26T03:00:00'));
  });
});

describe('broadcasts during quiet hours', () => {
  let srv: TestServer;
  let cluster = '';
  beforeAll(async () => {
    // A window around the current time, whatever time CI runs at.
    srv = await startServer({ LOA_QUIET_HOURS: `${vnTime(Date.now() - 3_600_000)}-${vnTime(Date.now() + 3_600_000)}` });
    [{ id: cluster }] = await provision(srv, 1);
  });
  afterAll(() => srv?.close());

  it('refuses a normal bulletin naming startAt and writes nothing; an emergency airs anyway', async () => {
    const tone = await uploadTone(srv, 1);
    const normal = await srv.api('POST', '/api/broadcasts', { title: 'Thông báo', level: 'normal', source: { contentId: tone }, targets: { clusterIds: [cluster] } });
    expect(normal.status).toBe(400);
    expect(normal.body.field).toBe('body/startAt');
    expect(normal.body.message).toMatch(/quiet hours/);
    expect((await srv.api('GET', '/api/broadcasts')).body).toEqual([]);
    const emergency = await srv.api('POST', '/api/broadcasts', { title: 'Khẩn cấp', level: 'emergency', source: { contentId: tone }, targets: { clusterIds: [cluster] } });
    expect(emergency.status).toBe(201);
    expect(emergency.body.state).toBe('scheduled');
  });
});
