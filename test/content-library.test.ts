import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { fold } from '../server/src/content/content.service.ts';
import { provision, startServer, type TestServer } from './helpers/server.ts';

/** GET /api/content as the recordings library reads it (issue 10): title search, paging, what holds an item, its last airing. */
let srv: TestServer;
let cluster: string;
let tmp: string;
const ids: Record<string, string> = {};

async function upload(title: string, hz: number): Promise<string> {
  const file = join(tmp, `${hz}.wav`);
  const run = await runFfmpeg(['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=1`, '-af', 'volume=0.3', file]);
  if (run.code !== 0) throw new Error(run.stderr);
  const form = new FormData();
  form.append('title', title);
  form.append('file', new Blob([readFileSync(file)], { type: 'audio/wav' }), `${hz}.wav`);
  const res = await fetch(`${srv.httpUrl}/api/content`, { method: 'POST', body: form, headers: { authorization: `Bearer ${srv.token}` } });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}
const list = async (query: string) => {
  const r = await srv.api('GET', '/api/content' + query);
  expect(r.status).toBe(200);
  return r.body as { id: string; title: string; usedBy: unknown[]; lastAiredAt: string | null; createdBy: string; createdByName: string | null }[];
};

beforeAll(async () => {
  srv = await startServer();
  [{ id: cluster }] = await provision(srv, 1);
  tmp = mkdtempSync(join(tmpdir(), 'loa-library-'));
  ids.vaccine = await upload('Lịch tiêm chủng tháng 12', 330);
  ids.dyke = await upload('Đắp đê mùa lũ', 440);
  ids.water = await upload('Thông báo cắt nước', 550);
}, 60_000);
afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the content list', () => {
  it('folds case and Vietnamese diacritics, đ included', () => {
    expect(fold('  Đắp ĐÊ   mùa lũ ')).toBe('dap de mua lu');
  });

  it('finds items by part of the title whether or not the officer typed the diacritics', async () => {
    for (const q of ['tiêm', 'TIEM CHUNG', 'tiem chung thang']) expect((await list(`?q=${encodeURIComponent(q)}`)).map((c) => c.id)).toEqual([ids.vaccine]);
    expect((await list(`?q=${encodeURIComponent('de mua')}`)).map((c) => c.id)).toEqual([ids.dyke]);
    expect(await list(`?q=${encodeURIComponent('không có')}`)).toEqual([]);
  });

  it('pages newest first, with and without a search', async () => {
    expect((await list('?limit=2')).map((c) => c.id)).toEqual([ids.water, ids.dyke]);
    expect((await list('?limit=2&offset=2')).map((c) => c.id)).toEqual([ids.vaccine]);
    expect((await list(`?q=${encodeURIComponent('thông')}&limit=1`)).map((c) => c.id)).toEqual([ids.water]);
    expect((await list(`?q=th&limit=1&offset=1`)).map((c) => c.id)).toEqual([ids.vaccine]);
  });

  it('lists only the uploads when asked, leaving synthesised bulletins out', async () => {
    const tts = await srv.api('POST', '/api/tts/preview', { text: 'Thử giọng đọc.' });
    expect(tts.status).toBeLessThan(300);
    expect((await list('?limit=500')).map((c) => c.id)).toContain(tts.body.id);
    expect((await list('?source=upload&limit=500')).map((c) => c.id).sort()).toEqual(Object.values(ids).sort());
    const bad = await srv.api('GET', '/api/content?source=radio');
    expect(bad.status).toBe(400);
    expect(bad.body.field).toMatch(/^querystring\/source/);
  });

  it('says which broadcasts not yet over hold an item, and when it last aired', async () => {
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const b = await srv.api('POST', '/api/broadcasts', { title: 'Tiêm chủng sáng mai', level: 'normal', source: { contentId: ids.vaccine }, targets: { clusterIds: [cluster] }, startAt });
    expect(b.status).toBe(201);
    const [item] = await list('?q=tiem');
    expect(item.usedBy).toEqual([{ broadcastId: b.body.id, title: 'Tiêm chủng sáng mai', state: 'scheduled' }]);
    expect(item.lastAiredAt).toBeNull();
    expect((await list('?q=de')).every((c) => c.usedBy.length === 0)).toBe(true);
    expect(item).toMatchObject({ createdBy: expect.any(String), createdByName: 'admin' });

    // Over: no longer holds the item, and its start is the item's last airing. (The airing itself is not under test here.)
    srv.app.loa.db.sqlite!.prepare(`update broadcasts set state = 'done' where id = ?`).run(b.body.id);
    const [after] = await list('?q=tiem');
    expect(after.usedBy).toEqual([]);
    expect(Date.parse(after.lastAiredAt!)).toBe(Date.parse(startAt));
  });
});

describe('who reads the library', () => {
  it('is for those who compose bulletins: a technician or viewer is refused, since it names the bulletins using each item', async () => {
    for (const role of ['technician', 'viewer']) {
      const u = { username: `lib-${role}`, password: `${role}-password-1`, role, areaIds: ['test-commune'] };
      expect((await srv.api('POST', '/api/users', u)).status).toBe(201);
      const token = (await srv.api('POST', '/api/auth/login', { username: u.username, password: u.password }, '')).body.token;
      expect((await srv.api('GET', '/api/content', undefined, token)).status).toBe(403);
    }
  });
});
