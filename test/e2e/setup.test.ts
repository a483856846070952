import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { startFreshServer } from './fresh-server.ts';
import { signOutVia, hasChromium, launch, newPage, shot, PHONE, CHROMIUM } from './browser.ts';
import { WEB_DIST } from '../../server/src/web/web.plugin.ts';
import { ensureBuilt } from './build.ts';

if (!hasChromium) console.warn(`E2E browser tests skipped: ${CHROMIUM} is absent (apt-get install -y --no-install-recommends chromium)`);

describe.skipIf(!hasChromium)('console: first run', () => {
  let srv: Awaited<ReturnType<typeof startFreshServer>>;
  let b: Awaited<ReturnType<typeof launch>>;
  beforeAll(async () => {
    ensureBuilt();
    // No LOA_ADMIN_PASSWORD: the server logs a one-time /setup link instead of creating admin.
    srv = await startFreshServer();
    b = await launch();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await srv?.close();
  });

  it('creates the first admin through the one-time link, then signs in again', async () => {
    expect(existsSync(WEB_DIST + 'index.html')).toBe(true);
    const token = await srv.app.loa.services.accounts.pendingSetupToken();
    expect(token).toBeTruthy();
    const { page, external, ctx } = await newPage(b.browser, srv.httpUrl, PHONE);
    await page.goto(`/setup?token=${token}`);
    await page.getByRole('heading', { name: 'Thiết lập lần đầu' }).waitFor();
    await page.getByLabel('Họ và tên').fill('Nguyễn Văn Quản');
    // A too-short password: the server's message shows next to the field, in Vietnamese; nothing typed is lost.
    await page.getByLabel('Mật khẩu').fill('ngan');
    await page.getByRole('button', { name: 'Tạo tài khoản quản trị' }).click();
    await page.getByText('Cần ít nhất 10 ký tự.').waitFor();
    expect(await page.getByLabel('Họ và tên').inputValue()).toBe('Nguyễn Văn Quản');
    await shot(page, 'setup-error-360');
    await page.getByLabel('Mật khẩu').fill('mat-khau-quan-tri-1');
    await page.getByRole('button', { name: 'Tạo tài khoản quản trị' }).click();
    await page.getByRole('link', { name: 'Tổng quan' }).waitFor();
    expect(await srv.app.loa.services.accounts.setupNeeded()).toBe(false);

    await signOutVia(page);
    await page.getByLabel('Tên đăng nhập').fill('admin');
    await page.getByLabel('Mật khẩu').fill('sai-mat-khau-123');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByText('Sai tên đăng nhập hoặc mật khẩu.').waitFor();
    await shot(page, 'login-360');
    await page.getByLabel('Mật khẩu').fill('mat-khau-quan-tri-1');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('link', { name: 'Tổng quan' }).waitFor();
    expect(external).toEqual([]);
    await ctx.close();
  });
});
