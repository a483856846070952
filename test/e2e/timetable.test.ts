import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { waitFor } from '../helpers/server.ts';
import { toLunar } from '../../server/src/timetable/lunar.ts';
import { occurrences, wallLabel } from '../../server/src/timetable/recurrence.ts';
import type { Schedule } from '../../schemas/api/recurrence.ts';
import { hasChromium, newPage, openPlace, shot, signIn, PHONE } from './browser.ts';
import { ADMIN, startDemoConsole, type DemoConsole } from './demo.ts';

const ZONE = 'Asia/Ho_Chi_Minh';
const OP = { username: 'vanhoa.dt', password: 'mat-khau-van-hoa-1', displayName: 'Nguyễn Thị Hoa', role: 'operator', areaIds: ['dong-thanh'] };
const OFF = 'dt-14';
const MORNING = 'Bản tin sáng';
const LUNAR = 'Thông tin ngày rằm, mùng 1';
const WD = ['', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'CN'];
const pad = (n: number) => String(n).padStart(2, '0');
const dmy = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** The preview row the officer should read for an instant: solar date and time, then the lunar date (rằm/mùng 1 named). */
function expectedRow(ms: number): string {
  const w = wallLabel(ms, ZONE);
  const l = toLunar(w.day.y, w.day.m, w.day.d);
  const named = l.day === 1 ? ' (mùng 1)' : l.day === 15 ? ' (rằm)' : '';
  return `${WD[w.weekday]} ${dmy(w.date)} · ${w.time} — ${pad(l.day)}/${pad(l.month)}${l.leap ? ' nhuận' : ''} ÂL${named}`;
}
const nextTen = (s: Schedule) => occurrences(s, Date.now() + 60_000, Date.now() + 400 * 86_400_000, ZONE).slice(0, 10).map(expectedRow);

/** Quiet hours that leave the test's own "now" free, and 05:30 and 06:00 too, whatever time of day the suite runs. */
function quietHours(): { spec: string; inside: string } {
  const [h, m] = wallLabel(Date.now(), ZONE).time.split(':').map(Number);
  const min = h * 60 + m;
  return min >= 4 * 60 + 5 && min < 21 * 60 + 50 ? { spec: '22:00-04:00', inside: '23:00' } : { spec: '12:00-14:00', inside: '12:30' };
}

/** axe-core from node_modules (as in a11y.test.ts), evaluated in the page: the console's CSP forbids an inline script tag. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.html.slice(0, 120)).join(' | ')}`);
  });
}
const noSideScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
/**
 * Controls in the screen's content smaller than 44 × 44 px (a checkbox or radio measured by its label, as layout.test.ts
 * does); a string, so no transpiler helper leaks into the page. Every <details> is opened first.
 */
const SMALL = `(() => {
  document.querySelectorAll('main details').forEach((d) => (d.open = true));
  const out = [];
  let measured = 0;
  for (const el of document.querySelectorAll('main a[href], main button, main input, main select, main textarea, main summary')) {
    const target = (el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length ? el.labels[0] : el;
    const r = target.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    measured++;
    if (r.width < 43.5 || r.height < 43.5) out.push(target.tagName + ' «' + (target.innerText || target.getAttribute('aria-label') || '').trim().slice(0, 30) + '» ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
  return measured < 5 ? ['only ' + measured + ' controls measured'] : out;
})()`;
const smallTargets = (page: Page) => page.evaluate(SMALL) as Promise<string[]>;
const previewRows = (page: Page) => page.getByTestId('prog-next').locator('li').allInnerTexts();
/** Waits for the debounced preview to show these rows; on a timeout, fails with the difference. */
async function untilRows(page: Page, expected: string[]) {
  await waitFor(async () => JSON.stringify(await previewRows(page)) === JSON.stringify(expected), 30_000, 200).catch(async () => expect(await previewRows(page)).toEqual(expected));
}
const entry = (page: Page, title: string) => page.locator(`[data-testid=tt-entry][data-title="${title}"]`);

/**
 * Issue 11, the operator's views on a 360 px phone: a recurring "Bản tin sáng" and a lunar "mùng 1 và rằm" programme
 * made in the editor with the preview (next ten airings with lunar dates, quiet hours and a clash explained with the
 * ways out) before saving; the programme list with approval; the timetable by day and by week with what aired and
 * what was missed today, quiet hours, free room, now/next, and the .ics download.
 */
describe.skipIf(!hasChromium)('console: programmes and the timetable', () => {
  let c: DemoConsole;
  let quiet: ReturnType<typeof quietHours>;
  let offName: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    c = await startDemoConsole([OP]);
    quiet = quietHours();
    expect((await c.srv.api('PATCH', '/api/areas/dong-thanh', { policy: { quietHours: quiet.spec } })).status).toBe(200);
    offName = (await c.srv.api('GET', `/api/clusters/${OFF}`)).body.name;
    // Today's history, made for real over MQTT: one bulletin aired everywhere, one half missed, one wholly missed.
    c.demo.fleet.get(OFF)!.linkDown();
    await waitFor(async () => (await c.srv.api('GET', `/api/clusters/${OFF}`)).body.health.online === false, 30_000, 250);
    const send = async (title: string, targets: object) => {
      const r = await c.srv.api('POST', '/api/broadcasts', { title, level: 'normal', source: { tts: { text: title + '.' } }, targets });
      expect(r.status).toBe(201);
      return r.body.id as string;
    };
    ids.aired = await send('Thông báo họp tổ', { areaIds: ['dt-thanh-hoa'] });
    ids.partial = await send('Nhắc nộp thuế', { clusterIds: [OFF, 'dt-15'] });
    ids.missed = await send('Thông báo cúp điện', { clusterIds: [OFF] });
    // Over: done, or expired for the one no cluster could take.
    for (const id of [ids.aired, ids.partial, ids.missed]) await waitFor(async () => ['done', 'expired'].includes((await c.srv.api('GET', `/api/broadcasts/${id}`)).body.state), 120_000, 250);
  }, 240_000);
  afterAll(async () => {
    await c?.close();
  });

  it('shows today\'s aired, partial and missed bulletins, now/next and quiet hours on a phone', async () => {
    const { page, ctx, external } = await newPage(c.browser, c.srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Lịch phát');
    await page.getByTestId('tt-now').waitFor();
    await entry(page, 'Thông báo cúp điện').waitFor();
    expect(await entry(page, 'Thông báo họp tổ').getByTestId('tt-state').innerText()).toBe('Đã phát');
    expect(await entry(page, 'Nhắc nộp thuế').getByTestId('tt-state').innerText()).toBe('Phát thiếu 1 cụm');
    expect(await entry(page, 'Thông báo cúp điện').getByTestId('tt-state').innerText()).toBe('Không phát được: chưa nhận (mất kết nối)');
    // Who missed it, by name and why.
    await entry(page, 'Nhắc nộp thuế').locator('summary').click();
    expect(await entry(page, 'Nhắc nộp thuế').locator('details').innerText()).toContain(offName);
    expect(await page.getByTestId('tt-day').first().locator('h2').innerText()).toMatch(/Hôm nay/);
    expect(await page.getByTestId('tt-quiet').first().innerText()).toMatch(/^Giờ không phát \d{2}:\d{2}–\d{2}:\d{2}$/);
    expect(await page.getByTestId('tt-now-next').innerText()).toMatch(/^Tiếp theo:/);
    expect(await noSideScroll(page)).toBe(true);
    await shot(page, 'timetable-today-360');
    expect(await smallTargets(page)).toEqual([]);
    expect(await axe(page)).toEqual([]);
    // Yesterday, on a fresh server: the day is there and says nothing aired.
    await page.getByRole('button', { name: 'Hôm qua' }).click();
    await page.locator('[data-testid=tt-day] h2', { hasText: 'Hôm qua' }).waitFor();
    expect(await page.getByTestId('tt-day').innerText()).toContain('Không có buổi phát nào.');
    expect(external).toEqual([]);
    await ctx.close();
  }, 120_000);

  it('makes "Bản tin sáng" every day at 05:30 with the preview\'s next ten airings and lunar dates, a quiet-hours warning and a clash resolved', async () => {
    const { page, ctx, external } = await newPage(c.browser, c.srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Chương trình');
    await page.getByRole('link', { name: '+ Thêm chương trình' }).click();
    await page.getByLabel('Tên chương trình').fill(MORNING);
    await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').fill('Kính thưa bà con, sau đây là bản tin sáng của xã Đồng Thạnh.');
    await page.getByLabel('Giờ phát', { exact: true }).fill(quiet.inside);
    await page.getByLabel('Hằng ngày', { exact: true }).check();
    // In quiet hours: said before saving, with the nearest allowed time and the way out.
    const quietProblem = page.getByTestId('prog-problems').locator('[data-kind=quiet_hours]');
    await quietProblem.waitFor({ timeout: 30_000 });
    expect(await quietProblem.innerText()).toMatch(/rơi vào giờ không phát \(\d{2}:\d{2}-\d{2}:\d{2}\)\. Giờ được phát gần nhất: (?:T[2-7]|CN) \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    await page.getByTestId('choice-quiet-move').click();
    expect(await page.getByTestId('choice-quiet-move').getAttribute('aria-pressed')).toBe('true');
    await shot(page, 'programme-quiet-360');
    await page.getByTestId('choice-quiet-move').click(); // taken back: the officer prefers another time
    await page.getByLabel('Giờ phát', { exact: true }).fill('5:30');
    expect(await page.getByTestId('prog-words').innerText()).toBe('Hằng ngày lúc 05:30');
    const expected = nextTen({ recurrence: { kind: 'daily' }, time: '05:30' });
    await untilRows(page, expected);
    expect(await page.getByTestId('prog-summary').innerText()).toMatch(/^Dài .+ · phát trên 18 cụm loa$/);
    expect(await page.getByTestId('prog-problems').count()).toBe(0);
    expect(await noSideScroll(page)).toBe(true);
    await shot(page, 'programme-preview-360');

    // A bulletin already set for the first of those mornings: the clash is named, where and when, with the choices.
    const first = occurrences({ recurrence: { kind: 'daily' }, time: '05:30' }, Date.now() + 60_000, Date.now() + 3 * 86_400_000, ZONE)[0];
    const clash = await c.srv.api('POST', '/api/broadcasts', { title: 'Lịch tiêm chủng', level: 'normal', source: { tts: { text: 'Lịch tiêm chủng cho trẻ em tại trạm y tế xã.' } }, targets: { areaIds: ['dong-thanh'] }, startAt: new Date(first).toISOString() });
    expect(clash.status).toBe(201);
    await page.getByLabel('Xanh lá').check(); // any change asks the preview again
    const conflict = page.getByTestId('prog-problems').locator('[data-kind=conflict]');
    await conflict.waitFor({ timeout: 30_000 });
    expect(await conflict.innerText()).toMatch(new RegExp(`Trùng giờ với «Lịch tiêm chủng» lúc ${WD[wallLabel(first, ZONE).weekday]} ${dmy(wallLabel(first, ZONE).date)} 05:30–05:\\d{2} trên 18 cụm loa`));
    for (const name of ['Phát sau chương trình kia', 'Phát trước, dời chương trình kia', 'Hủy']) expect(await conflict.getByRole('button', { name }).isVisible()).toBe(true);
    await shot(page, 'programme-clash-360');
    expect(await axe(page)).toEqual([]);
    // Saving without a choice is refused beside the button, with the same words; "Phát sau" then saves.
    await page.getByRole('button', { name: 'Lưu chương trình' }).click();
    await page.getByTestId('save-problems').locator('[data-kind=conflict]').waitFor();
    await conflict.getByRole('button', { name: 'Phát sau chương trình kia' }).click();
    expect(await page.getByTestId('save-problems').innerText()).toContain('Đã chọn: khi trùng giờ, chương trình này phát sau chương trình kia.');
    await page.getByRole('button', { name: 'Lưu chương trình' }).click();
    await page.waitForURL(/\/programmes\?saved=/);
    const card = page.locator('[data-testid=programme]', { hasText: MORNING });
    await card.waitFor();
    expect(await card.getByTestId('programme-state').innerText()).toBe('Chờ duyệt');
    expect(await card.getByTestId('programme-when').innerText()).toBe('Hằng ngày lúc 05:30');
    expect(await card.innerText()).toMatch(/Phát tiếp: (?:T[2-7]|CN) \d{2}\/\d{2}\/\d{4} · 05:\d{2} — \d{2}\/\d{2}/);
    ids.morning = (await card.getAttribute('data-id'))!;
    expect(external).toEqual([]);
    await ctx.close();
  }, 180_000);

  it('makes a lunar programme on mùng 1 and rằm, its items reordered, and lists only lunar 1st and 15th days', async () => {
    const { page, ctx } = await newPage(c.browser, c.srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await page.goto('/programmes/new');
    await page.getByLabel('Tên chương trình').fill(LUNAR);
    await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').fill('Phần hai: lịch sinh hoạt tại chùa.');
    await page.getByRole('button', { name: '+ Văn bản máy đọc' }).click();
    await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').nth(1).fill('Phần một: nhắc bà con giữ gìn an ninh trật tự.');
    await page.getByRole('button', { name: 'Đưa mục 2 lên trước' }).click();
    expect(await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').first().inputValue()).toMatch(/^Phần một/);
    await page.getByLabel('Giờ phát', { exact: true }).fill('06:00');
    await page.getByLabel('Âm lịch: mùng 1, rằm … hằng tháng').check();
    await page.getByRole('button', { name: 'Mùng 1 và rằm' }).click();
    expect(await page.getByRole('button', { name: 'Mùng 1 và rằm' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('prog-words').innerText()).toBe('Mùng 1 và rằm hằng tháng (âm lịch) lúc 06:00');
    const expected = nextTen({ recurrence: { kind: 'lunar', days: [1, 15] }, time: '06:00' });
    await untilRows(page, expected);
    expect(expected.every((r) => / ÂL \((mùng 1|rằm)\)$/.test(r))).toBe(true);
    expect(await noSideScroll(page)).toBe(true);
    await shot(page, 'programme-lunar-360');
    expect(await smallTargets(page)).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Lưu chương trình' }).click();
    await page.waitForURL(/\/programmes\?saved=/);
    const card = page.locator('[data-testid=programme]', { hasText: LUNAR });
    await card.waitFor();
    expect(await card.getByTestId('programme-when').innerText()).toBe('Mùng 1 và rằm hằng tháng (âm lịch) lúc 06:00');
    ids.lunar = (await card.getAttribute('data-id'))!;
    ids.lunarFirst = expected[0];
    await ctx.close();
  }, 120_000);

  it('lets the admin approve on the list, and shows the week with both programmes, free room and the .ics', async () => {
    const admin = await newPage(c.browser, c.srv.httpUrl, PHONE);
    await signIn(admin.page, ADMIN.username, ADMIN.password);
    await admin.page.goto('/programmes');
    const card = admin.page.locator('[data-testid=programme]', { hasText: MORNING });
    await card.getByRole('button', { name: 'Duyệt' }).click();
    await waitFor(async () => (await card.getByTestId('programme-state').innerText()) === 'Đang áp dụng', 10_000, 100);
    await shot(admin.page, 'programmes-list-360');
    expect(await smallTargets(admin.page)).toEqual([]);
    await admin.ctx.close();
    expect((await c.srv.api('POST', `/api/programmes/${ids.lunar}/approve`)).status).toBe(200);

    const { page, ctx, external } = await newPage(c.browser, c.srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Lịch phát');
    await page.getByRole('button', { name: 'Tuần (7 ngày)' }).click();
    await page.getByTestId('tt-range').waitFor();
    await waitFor(async () => (await page.getByTestId('tt-day').count()) === 7, 10_000, 100);
    // Every morning of the week from tomorrow holds "Bản tin sáng", planned or already sent to the clusters.
    const days = page.getByTestId('tt-day');
    for (let i = 1; i < 7; i++) {
      const e = days.nth(i).locator(`[data-testid=tt-entry][data-title="${MORNING}"]`);
      expect(await e.count()).toBe(1);
      expect(await e.getByTestId('tt-state').innerText()).toMatch(/^(Sắp phát|Đã lên lịch)$/);
      expect(await e.locator('.tt-time').innerText()).toMatch(/^05:\d{2}(–05:\d{2})?$/);
    }
    expect(await page.getByTestId('tt-free').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('tt-free').first().innerText()).toMatch(/^Còn trống \d{2}:\d{2}–\d{2}:\d{2} \(.+\)$/);
    expect(await noSideScroll(page)).toBe(true);
    await shot(page, 'timetable-week-360');
    expect(await axe(page)).toEqual([]);
    // The lunar programme's first day, a week or two ahead: "Sau ›" until it is in view.
    const lunarDate = ids.lunarFirst.match(/ (\d{2})\/(\d{2})\/(\d{4}) /)!;
    const day = page.locator(`[data-testid=tt-day][data-date="${lunarDate[3]}-${lunarDate[2]}-${lunarDate[1]}"]`);
    for (let i = 0; i < 4 && !(await day.count()); i++) {
      await page.getByRole('button', { name: 'Tuần sau' }).click();
      await page.waitForTimeout(300);
    }
    await day.locator(`[data-testid=tt-entry][data-title="${LUNAR}"]`).waitFor({ timeout: 10_000 });
    expect(await day.locator(`[data-testid=tt-entry][data-title="${LUNAR}"] .tt-time`).innerText()).toMatch(/^06:00(–06:\d{2})?$/);
    await shot(page, 'timetable-lunar-week-360');
    // The .ics, with the session cookie, as the phone downloads it.
    const href = await page.getByTestId('tt-ics').getAttribute('href');
    expect(await page.getByTestId('tt-ics').innerText()).toBe('Tải lịch về điện thoại (.ics)');
    const ics = await page.request.get(href!);
    expect(ics.status()).toBe(200);
    expect(ics.headers()['content-type']).toMatch(/^text\/calendar/);
    const text = await ics.text();
    expect(text).toContain('BEGIN:VCALENDAR');
    expect(text).toContain(MORNING);

    // A change by the operator waits for approval while the approved version keeps airing.
    await page.goto('/programmes');
    await page.getByRole('link', { name: `Sửa «${MORNING}»` }).click();
    await page.getByText('Thay đổi sẽ chờ lãnh đạo duyệt').waitFor();
    expect(await page.getByLabel('Giờ phát', { exact: true }).inputValue()).toBe('05:30');
    await page.getByLabel('Giờ phát', { exact: true }).fill('05:45');
    await page.getByRole('button', { name: 'Lưu thay đổi' }).click();
    await page.waitForURL(/\/programmes\?saved=/);
    const changed = page.locator('[data-testid=programme]', { hasText: MORNING });
    await changed.getByTestId('programme-change').waitFor();
    expect(await changed.getByTestId('programme-state').innerText()).toBe('Có thay đổi chờ duyệt');
    expect(await changed.getByTestId('programme-when').innerText()).toBe('Hằng ngày lúc 05:30');
    expect(await changed.getByTestId('programme-change').innerText()).toBe(`Thay đổi của ${OP.displayName} đang chờ duyệt: Hằng ngày lúc 05:45`);
    await shot(page, 'programmes-change-360');
    expect(external).toEqual([]);
    await ctx.close();
  }, 120_000);
});
