import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; never a downloaded browser. The suite skips (with a message) only when it is absent. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const SHOTS = join(import.meta.dirname, 'screenshots');

/**
 * Debian's Chromium, headless. `fakeMicrophone`: a WAV file Chromium's fake capture device plays (looped) as the
 * microphone, granted without a prompt — for the recording and live-microphone screens.
 */
export async function launch(opts: { fakeMicrophone?: string } = {}): Promise<{ browser: Browser; close(): Promise<void> }> {
  const mic = opts.fakeMicrophone
    ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${opts.fakeMicrophone}`, '--autoplay-policy=no-user-gesture-required']
    : [];
  // playwright's launch() gives every run a fresh temporary profile (it refuses --user-data-dir here).
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...mic],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export const PHONE = { width: 360, height: 740 };
export const DESKTOP = { width: 1440, height: 900 };

/** A fresh context (own cookies) at a viewport (browser zone and locale settable); any request leaving the test server is refused and recorded. */
export async function newPage(
  browser: Browser,
  baseURL: string,
  viewport = PHONE,
  opts: { timezoneId?: string; locale?: string } = {},
): Promise<{ ctx: BrowserContext; page: Page; external: string[] }> {
  const ctx = await browser.newContext({ baseURL, viewport, locale: opts.locale ?? 'vi-VN', timezoneId: opts.timezoneId ?? 'Asia/Ho_Chi_Minh' });
  const external: string[] = [];
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseURL) || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  const page = await ctx.newPage();
  return { ctx, page, external };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.getByRole('link', { name: 'Tổng quan' }).waitFor();
}

/**
 * Goes to a place of the menu as a person would: on a phone most places are under "Thêm" (the bottom bar holds four),
 * on a desktop every place is in the top menu.
 */
export async function openPlace(page: Page, name: string): Promise<void> {
  const link = page.getByRole('navigation').getByRole('link', { name, exact: false }).filter({ visible: true }).first();
  if (!(await link.isVisible().catch(() => false))) await page.getByRole('button', { name: /^Thêm|^More/ }).click();
  await link.click();
}

/** Signs out through the menu (under "Thêm" on a phone). */
export async function signOutVia(page: Page, label = 'Đăng xuất'): Promise<void> {
  const button = page.getByRole('button', { name: label }).filter({ visible: true }).first();
  if (!(await button.isVisible().catch(() => false))) await page.getByRole('button', { name: /^Thêm|^More/ }).click();
  await button.click();
}
