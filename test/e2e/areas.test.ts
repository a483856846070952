import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { openPlace, hasChromium, newPage, shot, signIn, PHONE, DESKTOP } from './browser.ts';
import { ADMIN, startDemoConsole, type DemoConsole } from './demo.ts';

const OP = { username: 'vanhanh', password: 'mat-khau-van-hanh-1', role: 'operator', areaIds: ['dong-thanh'] };
const MORNING = { name: 'Buổi sáng', from: '05:00', to: '07:00', maxMinutes: 30 };

/** Visible controls smaller than 44 × 44 px (a radio or checkbox by its label), and whether the page scrolls sideways. */
const layoutOf = (page: Page) =>
  page.evaluate(() => {
    const small: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('main button, main input, main select, main label')) {
      const input = el instanceof HTMLInputElement && (el.type === 'radio' || el.type === 'checkbox');
      if (input || (el instanceof HTMLLabelElement && !(el.control instanceof HTMLInputElement && ['radio', 'checkbox'].includes(el.control.type)))) continue;
      const r = el.getBoundingClientRect();
      if (el.checkVisibility() && r.width > 0 && (r.width < 43.5 || r.height < 43.5)) small.push(`${el.tagName} «${el.innerText || el.getAttribute('aria-label')}» ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return { small, sideways: document.documentElement.scrollWidth > innerWidth };
  });

/** axe-core from node_modules (as in a11y.test.ts): the serious and critical findings on the page as it is. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(' ')).join(' | ')}`);
  });
}

/** The error shown under a field is the one its input is described by (what a screen reader reads with it). */
async function errorOf(input: Locator): Promise<string | null> {
  if ((await input.getAttribute('aria-invalid')) !== 'true') return null;
  const ids = (await input.getAttribute('aria-describedby'))?.split(' ') ?? [];
  const err = ids.find((id) => id.endsWith('-err'));
  return err ? input.page().locator(`#${err}`).innerText() : null;
}

describe.skipIf(!hasChromium)("an area's broadcasting rules", () => {
  let d: DemoConsole;
  beforeAll(async () => {
    d = await startDemoConsole([OP]);
  }, 120_000);
  afterAll(async () => d?.close());

  it("sets Đồng Thạnh's quiet hours and a morning session cap on a phone; a hamlet inherits them", async () => {
    const { page, ctx, external } = await newPage(d.browser, d.srv.httpUrl, PHONE);
    await signIn(page, ADMIN.username, ADMIN.password);
    await openPlace(page, 'Quy định phát');
    await page.getByRole('heading', { level: 1, name: 'Quy định phát của địa bàn' }).waitFor();
    const hamlet = page.locator('[data-area=dt-thanh-hoa]');
    // Nothing set anywhere yet: the hamlet follows the system's defaults.
    expect(await hamlet.locator('[data-rule=quietHours]').innerText()).toContain('mặc định của hệ thống');
    expect(await page.locator('[data-area=dong-thanh] > .area-card [data-rule=sessions] dd').innerText()).toBe('không giới hạn mặc định của hệ thống');

    await page.getByRole('button', { name: 'Sửa quy định của Đồng Thạnh' }).click();
    const form = page.getByRole('form', { name: 'Sửa quy định của Đồng Thạnh' });
    const quiet = form.getByRole('group', { name: 'Giờ không phát' });
    await quiet.getByLabel('Đặt giờ không phát riêng').check();
    await quiet.getByLabel('Từ', { exact: true }).fill('21:30');
    await quiet.getByLabel('Đến', { exact: true }).fill('0500'); // a phone's number pad has no ':'
    const sessions = form.getByRole('group', { name: 'Giới hạn buổi phát' });
    await sessions.getByLabel('Đặt giới hạn riêng').check();
    const morning = sessions.getByRole('group', { name: 'Buổi 1' });
    await morning.getByLabel('Tên buổi').fill(MORNING.name);
    await morning.getByLabel('Từ', { exact: true }).fill('05:00');
    await morning.getByLabel('Đến', { exact: true }).fill('04:30');
    await morning.getByLabel('Tối đa (phút mỗi ngày)').fill('30');
    expect(await quiet.getByLabel('Đến', { exact: true }).inputValue()).toBe('05:00'); // written back as it is read, once left
    await form.getByRole('button', { name: 'Lưu quy định' }).click();

    // The server refuses a session that ends before it starts and names the field; the console shows it there.
    const to = morning.getByLabel('Đến', { exact: true });
    await expect.poll(() => errorOf(to)).toBe('Buổi «Buổi sáng» phải kết thúc sau khi bắt đầu (05:00–04:30); buổi phát không được kéo qua nửa đêm.');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-invalid'))).toBe('true');
    expect(await errorOf(morning.getByLabel('Từ', { exact: true }))).toBeNull();
    expect((await d.srv.api('GET', '/api/areas/dong-thanh')).body.policy).toBeNull();
    expect(await axe(page)).toEqual([]);
    await shot(page, 'areas-session-error-360');

    await to.fill('07:00');
    expect(await to.getAttribute('aria-invalid')).toBe('false'); // the message goes once the field is changed
    await form.getByRole('button', { name: 'Lưu quy định' }).click();
    await page.getByRole('status').filter({ hasText: 'Đã lưu quy định của Đồng Thạnh.' }).waitFor();
    await page.getByRole('link', { name: 'Xem lịch phát' }).waitFor(); // the quiet hours changed: planned airings are flagged there
    await form.waitFor({ state: 'detached' });

    const commune = page.locator('[data-area=dong-thanh] > .area-card');
    expect(await commune.locator('[data-rule=quietHours] dd').innerText()).toBe('21:30–05:00 riêng');
    expect(await commune.locator('[data-rule=sessions] dd').innerText()).toBe('Buổi sáng 05:00–07:00, tối đa 30 phút riêng');
    expect(await hamlet.locator('[data-rule=quietHours] dd').innerText()).toBe('21:30–05:00 theo Đồng Thạnh');
    expect(await hamlet.locator('[data-rule=sessions] dd').innerText()).toBe('Buổi sáng 05:00–07:00, tối đa 30 phút theo Đồng Thạnh');
    expect(await hamlet.locator('[data-rule=timeZone] dd').innerText()).toBe('Asia/Ho_Chi_Minh mặc định của hệ thống');
    // Bình Phú is untouched.
    expect(await page.locator('[data-area=bp-binh-cach] [data-rule=quietHours] dd').innerText()).not.toContain('21:30');
    expect(await layoutOf(page)).toEqual({ small: [], sideways: false });
    await shot(page, 'areas-360');

    // The hamlet's editor offers "Theo Đồng Thạnh" with what that means.
    await page.getByRole('button', { name: 'Sửa quy định của Ấp Thạnh Hòa' }).click();
    const hForm = page.getByRole('form', { name: 'Sửa quy định của Ấp Thạnh Hòa' });
    expect(await hForm.getByRole('group', { name: 'Giờ không phát' }).getByLabel('Theo Đồng Thạnh (21:30–05:00)').isChecked()).toBe(true);
    expect(await hForm.getByRole('group', { name: 'Giới hạn buổi phát' }).getByLabel('Theo Đồng Thạnh (Buổi sáng 05:00–07:00, tối đa 30 phút)').isChecked()).toBe(true);
    expect(await layoutOf(page)).toEqual({ small: [], sideways: false });
    expect(await axe(page)).toEqual([]);
    await shot(page, 'areas-hamlet-editor-360');

    const hamletApi = (await d.srv.api('GET', '/api/areas/dt-thanh-hoa')).body;
    expect(hamletApi.policy).toBeNull();
    expect(hamletApi.effectivePolicy).toEqual({ timeZone: 'Asia/Ho_Chi_Minh', quietHours: '21:30-05:00', sessions: [MORNING] });
    expect((await d.srv.api('GET', '/api/areas/dong-thanh')).body.policy).toEqual({ quietHours: '21:30-05:00', sessions: [MORNING] });
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('on a desktop: the tree and an editor with two sessions; only admins see the screen', async () => {
    const { page, ctx, external } = await newPage(d.browser, d.srv.httpUrl, DESKTOP);
    await signIn(page, ADMIN.username, ADMIN.password);
    await openPlace(page, 'Quy định phát');
    await page.locator('[data-area=bp-binh-phu]').waitFor();
    await page.getByRole('button', { name: 'Sửa quy định của Bình Phú' }).click();
    const form = page.getByRole('form', { name: 'Sửa quy định của Bình Phú' });
    await form.getByRole('group', { name: 'Giới hạn buổi phát' }).getByLabel('Đặt giới hạn riêng').check();
    await form.getByRole('button', { name: 'Thêm buổi phát' }).click();
    const evening = form.getByRole('group', { name: 'Buổi 2' });
    await evening.getByLabel('Tên buổi').fill('Buổi chiều');
    await evening.getByLabel('Từ', { exact: true }).fill('17h00');
    await evening.getByLabel('Đến', { exact: true }).fill('18:00');
    await evening.getByLabel('Tối đa (phút mỗi ngày)').fill('20');
    await form.getByRole('button', { name: 'Xóa buổi 1' }).click();
    expect(await layoutOf(page)).toEqual({ small: [], sideways: false });
    await shot(page, 'areas-editor-1440');
    await form.getByRole('button', { name: 'Lưu quy định' }).click();
    await page.getByRole('status').filter({ hasText: 'Đã lưu quy định của Bình Phú.' }).waitFor();
    expect((await d.srv.api('GET', '/api/areas/bp-binh-tri')).body.effectivePolicy.sessions).toEqual([{ name: 'Buổi chiều', from: '17:00', to: '18:00', maxMinutes: 20 }]);
    await shot(page, 'areas-1440');
    expect(external).toEqual([]);
    await ctx.close();

    const op = await newPage(d.browser, d.srv.httpUrl, PHONE);
    await signIn(op.page, OP.username, OP.password);
    await op.page.getByRole('button', { name: /^Thêm/ }).click();
    await op.page.locator('#nav-more').getByRole('link', { name: 'Tài khoản' }).waitFor();
    expect(await op.page.getByRole('link', { name: 'Quy định phát' }).count()).toBe(0);
    await op.page.goto('/areas');
    await op.page.getByText('Bạn không có quyền thực hiện thao tác này.').waitFor();
    await op.ctx.close();
  }, 90_000);
});
