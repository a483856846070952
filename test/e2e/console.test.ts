import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../../server/src/demo/start-demo.ts';
import { startServer, waitFor, type TestServer } from '../helpers/server.ts';
import { makeSignal } from '../helpers/audio.ts';
import { reports } from '../helpers/broadcast.ts';
import { openPlace, hasChromium, launch, newPage, shot, signIn, PHONE, DESKTOP } from './browser.ts';
import { ensureBuilt } from './build.ts';

const OP = { username: 'vanhanh', password: 'mat-khau-van-hanh-1' };
const APPROVER = { username: 'lanhdao', password: 'mat-khau-lanh-dao-1' };

describe.skipIf(!hasChromium)('console with the demo fleet', () => {
  let srv: TestServer;
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let b: Awaited<ReturnType<typeof launch>>;
  let tmp: string;
  beforeAll(async () => {
    ensureBuilt();
    srv = await startServer();
    demo = await startDemo(srv.app, srv.mqttPort, Number(new URL(srv.httpUrl).port));
    for (const [u, role] of [[OP, 'operator'], [APPROVER, 'approver']] as const) {
      const r = await srv.api('POST', '/api/users', { ...u, role, areaIds: ['dong-thanh'] });
      expect(r.status).toBe(201);
    }
    // Normal and priority bulletins in Đồng Thạnh wait for a leader; emergencies never wait.
    expect((await srv.api('PATCH', '/api/areas/dong-thanh', { approvalPolicy: 'required-except-emergency' })).status).toBe(200);
    tmp = mkdtempSync(join(tmpdir(), 'loa-e2e-audio-'));
    b = await launch();
  }, 120_000);
  const login = async (u: { username: string; password: string }) => {
    const r = await srv.api('POST', '/api/auth/login', u, '');
    expect(r.status).toBe(200);
    return (method: string, url: string, body?: unknown) => srv.api(method, url, body, r.body.token);
  };
  afterAll(async () => {
    await b?.close();
    await demo?.stop();
    await srv?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('airs an emergency on all 18 clusters of Đồng Thạnh in 3 taps at 360 px, proven by the server', async () => {
    await waitFor(async () => (await srv.api('GET', '/api/clusters?online=true&areaId=dong-thanh')).body.total === 18, 30_000, 250);
    const { page, ctx, external } = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await shot(page, 'dashboard-360');
    const t0 = Date.now();
    await page.getByRole('button', { name: /Phát khẩn cấp/ }).click(); // tap 1
    await page.getByTestId('preset-1').click(); // tap 2: a ready-made text; Đồng Thạnh is preselected
    await shot(page, 'emergency-360');
    await page.getByRole('button', { name: 'Xác nhận phát ngay' }).click(); // tap 3
    await page.waitForURL(/\/broadcasts\/[^/]+$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    // Proof of play comes from the server's delivery summary and airing records, not from the page.
    const b1 = await waitFor(async () => {
      const r = (await srv.api('GET', `/api/broadcasts/${id}`)).body;
      return r.delivery.started === 18 ? r : null;
    }, 30_000, 250);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(b1).toMatchObject({ level: 'emergency', delivery: { targeted: 18, failed: 0 } });
    const airings = (await srv.api('GET', `/api/broadcasts/${id}/airings`)).body as any[];
    expect(new Set(airings.filter((a) => a.startedAt).map((a) => a.clusterId)).size).toBe(18);
    expect(airings.every((a) => a.clusterId.startsWith('dt-'))).toBe(true);
    // The page shows the same live progress without a reload.
    await page.getByTestId('started').filter({ hasText: /^18$/ }).waitFor({ timeout: 15_000 });
    await shot(page, 'emergency-progress-360');
    // Airing by airing, in words: the device states (started, finished …) are translated.
    await page.getByText('Từng cụm loa').click();
    const rows = page.getByTestId('airings').locator('tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=airings] tbody tr').length === 18);
    for (const state of await rows.locator('td:nth-child(2)').allInnerTexts()) expect(['Đang phát', 'Đã phát xong', 'Phát tiếp']).toContain(state);
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('shows a fault injected in the simulator on the dashboard without a reload', async () => {
    // A browser in another zone still reads station time (Asia/Ho_Chi_Minh) on the charts.
    const { page, ctx } = await newPage(b.browser, srv.httpUrl, DESKTOP, { timezoneId: 'Europe/Berlin' });
    await signIn(page, OP.username, OP.password);
    const faulty = page.getByTestId('faulty');
    await faulty.waitFor();
    const before = Number(await faulty.textContent());
    const dt = demo.fleet.get('dt-01')!;
    dt.outputFault(1, 'open');
    dt.mainsLoss(true);
    dt.sendTelemetry();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=faulty]')?.textContent) > n, before, { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=battery]')?.textContent) >= 1, null, { timeout: 60_000 });
    // Fault codes read as words everywhere: dashboard, map, list, detail; never the raw code.
    const faultWords = /Loa hướng Nam: hở mạch \(đứt dây loa\)/;
    const raw = async () => expect(await page.locator('main').innerText()).not.toMatch(/mains-lost|output-\d-(open|short|overload)/);
    await page.getByTestId('fault-list').getByText(faultWords).waitFor();
    await page.getByTestId('fault-list').getByText('Mất điện lưới').waitFor();
    await raw();
    await shot(page, 'dashboard-fault-1440');
    await openPlace(page, 'Bản đồ');
    // dt-01 is a pin in the fault state, or inside a group that counts a faulty member at this zoom.
    await page.locator('.pin-hit[data-cluster=dt-01][data-status=fault], .pin-group[data-faulty]:not([data-faulty="0"])').first().waitFor();
    const drawn = await page.evaluate(() => document.querySelectorAll('.pin-hit').length + [...document.querySelectorAll<HTMLElement>('.pin-group')].reduce((n, g) => n + Number(g.dataset.count), 0));
    expect(drawn).toBe(18);
    await page.getByTestId('fault-list').getByText(faultWords).waitFor();
    await raw();
    await shot(page, 'map-1440');
    await page.getByRole('navigation').getByRole('link', { name: 'Cụm loa' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Đồng Thạnh 01' }).getByText(faultWords).waitFor();
    await raw();
    await page.goto('/clusters/dt-01');
    await page.getByTestId('faults').getByText(faultWords).waitFor();
    await page.getByRole('listitem').filter({ hasText: 'Loa hướng Nam' }).getByText('Hở mạch (đứt dây loa)').waitFor();
    await raw();
    await page.locator('.charts .uplot').first().waitFor();
    await shot(page, 'cluster-detail-1440');
    // Time axis: whole hours of station time, 24 h, all different; the 7-day view reads dd/MM and ends today.
    const ticks = async (range = '24h') => (await page.locator(`.charts[data-range="${range}"] .chart[data-ticks]`).first().getAttribute('data-ticks'))!.split(' ');
    const h24 = await ticks();
    expect(h24.length).toBeGreaterThanOrEqual(4);
    expect(new Set(h24).size).toBe(h24.length);
    for (const x of h24) expect(x).toMatch(/^([01]\d|2[0-3]):00$/);
    const hcm = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', day: '2-digit', month: '2-digit', hourCycle: 'h23' }).formatToParts(new Date());
    const part = (k: string) => hcm.find((p) => p.type === k)!.value;
    // The last tick is the latest step at or before now in Hồ Chí Minh time (Berlin's clock is 5–6 h behind).
    const hourOf = (x: string) => Number(x.slice(0, 2));
    const step = (hourOf(h24[1]) - hourOf(h24[0]) + 24) % 24;
    expect((Number(part('hour')) - hourOf(h24.at(-1)!) + 24) % 24).toBeLessThan(step);
    await page.getByRole('button', { name: '7 ngày' }).click();
    await page.locator('.charts[data-range="7d"] .chart[data-ticks]').first().waitFor();
    // The container switches to 7d at once while its charts are redrawn after the fetch: wait for the new ticks.
    await expect.poll(async () => (await ticks('7d')).every((x) => /^\d\d\/\d\d$/.test(x)), { timeout: 15_000 }).toBe(true);
    const d7 = await ticks('7d');
    expect(d7.length).toBeGreaterThanOrEqual(3);
    expect(new Set(d7).size).toBe(d7.length);
    for (const x of d7) expect(x).toMatch(/^\d\d\/\d\d$/);
    expect(d7.at(-1)).toBe(`${part('day')}/${part('month')}`);
    await shot(page, 'cluster-detail-7d-1440');
    dt.outputFault(1, 'ok' as any);
    dt.mainsLoss(false);
    dt.sendTelemetry();
    await ctx.close();
  }, 90_000);

  it('uploads an audio file with visible progress and transcode status', async () => {
    const file = await makeSignal(join(tmp, 'ban-tin.wav'), { lufs: -20, seconds: 20, args: ['-ac', '2', '-ar', '44100', '-c:a', 'pcm_s16le'] });
    expect(statSync(file).size).toBeGreaterThan(1_000_000);
    const { page, ctx } = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Soạn bản tin');
    await page.getByRole('radio', { name: 'Tệp âm thanh' }).check();
    await page.getByLabel('Chọn tệp âm thanh').setInputFiles(file);
    await page.getByRole('progressbar').first().waitFor();
    await page.getByTestId('content-state').filter({ hasText: 'Sẵn sàng' }).waitFor({ timeout: 60_000 });
    await shot(page, 'upload-360');
    await ctx.close();
  }, 90_000);

  it('sends a bulletin that waits for approval, and an approver approves it', async () => {
    const op = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(op.page, OP.username, OP.password);
    await openPlace(op.page, 'Soạn bản tin');
    await op.page.getByRole('radio', { name: 'Văn bản' }).check();
    // Submitting without a title: the server's error appears next to the field, in Vietnamese, text kept.
    await op.page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').fill('Thông báo lịch tiêm phòng cho gia súc vào sáng thứ Bảy.');
    await op.page.getByLabel('Đồng Thạnh').check();
    await op.page.getByRole('button', { name: 'Gửi phát' }).click();
    await op.page.locator('.field-error').getByText('Bắt buộc nhập.').waitFor();
    await shot(op.page, 'compose-error-360');
    await op.page.getByLabel('Tiêu đề').fill('Tiêm phòng gia súc');
    await op.page.getByRole('button', { name: 'Gửi phát' }).click();
    await op.page.waitForURL(/\/broadcasts\/[^/]+$/);
    const id = new URL(op.page.url()).pathname.split('/').pop()!;
    expect((await srv.api('GET', `/api/broadcasts/${id}`)).body.state).toBe('pending_approval');
    await op.ctx.close();

    const ap = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(ap.page, APPROVER.username, APPROVER.password);
    await openPlace(ap.page, 'Duyệt tin');
    const item = ap.page.getByTestId('approval-' + id);
    await item.waitFor();
    await shot(ap.page, 'approvals-360');
    await item.getByRole('button', { name: 'Duyệt' }).click();
    await item.waitFor({ state: 'detached' });
    const after = (await srv.api('GET', `/api/broadcasts/${id}`)).body;
    expect(['scheduled', 'airing', 'done']).toContain(after.state);
    expect(after.approvedBy).toBeTruthy();
    await ap.ctx.close();
  }, 90_000);

  it('rejects a bulletin with a reason; the operator reads why', async () => {
    const asOp = await login(OP);
    const created = await asOp('POST', '/api/broadcasts', { title: 'Họp tổ dân phố', level: 'normal', source: { tts: { text: 'Mời bà con họp tổ dân phố lúc 19 giờ tối nay.' } }, targets: { areaIds: ['dong-thanh'] } });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.state).toBe('pending_approval');

    const ap = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(ap.page, APPROVER.username, APPROVER.password);
    await openPlace(ap.page, 'Duyệt tin');
    const item = ap.page.getByTestId('approval-' + id);
    await item.getByRole('button', { name: 'Từ chối' }).click();
    const form = item.getByRole('form', { name: 'Từ chối' });
    // An empty reason is refused by the server; its message shows next to the field.
    await form.getByRole('button', { name: 'Từ chối' }).click();
    await form.getByText('Bắt buộc nhập.').waitFor();
    await form.getByLabel('Lý do').fill('Trùng lịch họp của xã, đề nghị dời sang thứ Bảy.');
    await shot(ap.page, 'reject-360');
    await form.getByRole('button', { name: 'Từ chối' }).click();
    await item.waitFor({ state: 'detached' });
    const after = (await srv.api('GET', `/api/broadcasts/${id}`)).body;
    expect(after).toMatchObject({ state: 'rejected', rejectReason: 'Trùng lịch họp của xã, đề nghị dời sang thứ Bảy.' });
    expect((await srv.api('GET', `/api/broadcasts/${id}/airings`)).body).toEqual([]);
    await ap.ctx.close();

    const op = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(op.page, OP.username, OP.password);
    await op.page.goto('/broadcasts/' + id);
    await op.page.locator('main .badge').getByText('Bị từ chối').waitFor();
    await op.page.getByText('Lý do: Trùng lịch họp của xã, đề nghị dời sang thứ Bảy.').waitFor();
    await op.ctx.close();
  }, 90_000);

  it('stops a running broadcast; every cluster reports the airing cancelled', async () => {
    const { page, ctx } = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    await page.getByRole('button', { name: /Phát khẩn cấp/ }).click();
    // Long enough (some 20 s of speech) to still be playing when it is stopped.
    const text = Array.from({ length: 3 }, (_, i) => `Thông báo khẩn số ${i + 1}: nước sông đang lên cao, bà con vùng trũng chuẩn bị di dời người và tài sản lên chỗ cao.`).join(' ');
    await page.getByLabel('Nội dung khẩn cấp').fill(text);
    await page.getByRole('button', { name: 'Xác nhận phát ngay' }).click();
    await page.waitForURL(/\/broadcasts\/[^/]+$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByTestId('started').filter({ hasText: /^18$/ }).waitFor({ timeout: 30_000 });
    const running = (await srv.api('GET', `/api/broadcasts/${id}`)).body;
    expect(running.state).toBe('airing');
    expect((await srv.api('GET', `/api/content/${running.contentId}`)).body.durationMs).toBeGreaterThan(12_000);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Dừng phát' }).click();
    await page.locator('main .badge').getByText('Đã hủy').waitFor();
    // The server's airing records: the broadcast is cancelled and each of the 18 clusters sent its own 'cancelled'.
    const b1 = (await srv.api('GET', `/api/broadcasts/${id}`)).body;
    expect(b1).toMatchObject({ state: 'cancelled', cancelledBy: expect.any(String) });
    const cancelled = await waitFor(async () => {
      const r = (await reports(srv, id, 'cancelled'));
      return new Set(r.map((x) => x.cluster_id)).size === 18 ? r : null;
    }, 20_000, 100);
    expect(cancelled.every((r) => r.reason === 'cancelled' && r.cluster_id.startsWith('dt-'))).toBe(true);
    const airings = (await srv.api('GET', `/api/broadcasts/${id}/airings`)).body as any[];
    expect(airings).toHaveLength(18);
    expect(airings.every((a) => a.state === 'cancelled' && a.startedAt && !a.finishedAt)).toBe(true);
    await page.getByText('Từng cụm loa').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=airings] tbody tr').length === 18);
    const cells = await page.getByTestId('airings').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[1].textContent, tr.children[3].textContent]));
    for (const c of cells) expect(c).toEqual(['Đã hủy', 'người vận hành đã dừng phát']);
    await shot(page, 'cancelled-360');
    await ctx.close();
  }, 90_000);

  it('composes with a chosen voice and speed, and a start typed as dd/MM/yyyy and 24 h station time', async () => {
    // A browser set to New York: what is typed is still Vietnam's wall clock.
    const { page, ctx } = await newPage(b.browser, srv.httpUrl, PHONE, { timezoneId: 'America/New_York', locale: 'en-US' });
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Soạn bản tin');
    await page.getByRole('radio', { name: 'Văn bản' }).check();
    const voice = page.getByLabel('Giọng đọc');
    await voice.locator('option').nth(2).waitFor({ state: 'attached' });
    expect(await voice.locator('option').allInnerTexts()).toEqual(['Giọng Bắc (Hà Nội)', 'Giọng Trung (Huế)', 'Giọng Nam (Sài Gòn)']);
    await voice.selectOption({ label: 'Giọng Nam (Sài Gòn)' });
    await page.getByLabel('Tốc độ đọc').selectOption({ label: 'Hơi chậm (0,9×)' });
    await page.getByLabel('Tiêu đề').fill('Lịch tiêm chủng');
    await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').fill('Trạm y tế xã tiêm chủng cho trẻ em vào sáng mai.');
    const preview = page.waitForRequest((r) => r.url().endsWith('/api/tts/preview'));
    await page.getByRole('button', { name: /Nghe thử/ }).click();
    expect((await preview).postDataJSON()).toMatchObject({ voice: 'vi-vn-x-south', speed: 0.9 });
    await page.getByTestId('tts-audio').waitFor();
    await page.getByLabel('Đồng Thạnh').check();
    // Not a date, not a time: said next to the field, and nothing is sent.
    const sent = (await srv.api('GET', '/api/broadcasts?limit=500')).body.length;
    await page.getByLabel('Ngày phát').fill('31/02/2027');
    await page.getByLabel('Giờ phát').fill('17:30');
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    await page.locator('.field-error').getByText('Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm').waitFor();
    await page.getByLabel('Giờ phát').fill('25:00');
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    await page.locator('.field-error').getByText('Giờ không hợp lệ; nhập theo dạng giờ:phút (24 giờ)').waitFor();
    expect((await srv.api('GET', '/api/broadcasts?limit=500')).body.length).toBe(sent);
    // Tomorrow in Vietnam, 17h30 as often written there.
    const tomorrow = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(Date.now() + 86_400_000);
    await page.getByLabel('Ngày phát').fill(tomorrow);
    await page.getByLabel('Giờ phát').fill('17h30');
    await page.getByTestId('start-summary').getByText(`Bắt đầu lúc ${tomorrow} 17:30 (giờ Việt Nam).`).waitFor();
    await shot(page, 'compose-voice-time-360');
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    await page.waitForURL(/\/broadcasts\/[^/]+$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const x = (await srv.api('GET', `/api/broadcasts/${id}`)).body;
    const [dd, mm, yyyy] = tomorrow.split('/');
    expect(x.startAt).toBe(`${yyyy}-${mm}-${dd}T10:30:00.000Z`); // 17:30 at UTC+7
    expect(x.source).toMatchObject({ tts: { voice: 'vi-vn-x-south', speed: 0.9 } });
    await page.getByText(`${tomorrow} 17:30:00`).waitFor();
    await ctx.close();
  }, 90_000);
});
