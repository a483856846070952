import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { waitFor } from '../helpers/server.ts';
import { hasChromium, newPage, shot, signIn, PHONE } from './browser.ts';
import { ADMIN, startDemoConsole, type DemoConsole } from './demo.ts';

/** axe-core from node_modules, injected as page script: no CDN, nothing fetched from outside. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const OP = { username: 'vanhanh', password: 'mat-khau-van-hanh-1', role: 'operator', areaIds: ['dong-thanh'] };

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/** Runs axe (WCAG 2.x A/AA and best practices) on the page as it is; returns the serious and critical findings. */
async function audit(page: Page, name: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE); // not addScriptTag: an inline script tag is what the console's CSP forbids; evaluate runs outside it
  const { violations, passed }: { violations: Violation[]; passed: number } = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return {
      passed: r.passes.length,
      violations: r.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => ({ target: n.target, html: n.html.slice(0, 160) })) })),
    };
  });
  // axe really looked (colour contrast, labels, landmarks … each a passed rule), not an empty or unloaded page.
  expect(passed, name).toBeGreaterThan(10);
  const minor = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length) console.info(`axe ${name}: minor: ${minor.map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`).join(', ')}`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(' ') + ' ' + n.html).join(' | ')}`);
}

/** Presses Tab until the focused element satisfies `is` (at most `max` presses); returns how many it took. */
async function tabTo(page: Page, is: (el: Element) => boolean, max = 40): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`(${is.toString()})(document.activeElement)`)) return i;
  }
  throw new Error('focus never reached the element by Tab');
}

describe.skipIf(!hasChromium)('console accessibility', () => {
  let d: DemoConsole;
  beforeAll(async () => {
    d = await startDemoConsole([OP]);
  }, 120_000);
  afterAll(async () => d?.close());

  it('has no serious or critical axe violations on the main screens at 360 px', async () => {
    const { page, ctx, external } = await newPage(d.browser, d.srv.httpUrl, PHONE);
    const found: string[] = [];
    await page.goto('/');
    await page.getByLabel('Tên đăng nhập').waitFor();
    found.push(...(await audit(page, 'sign-in')));
    await signIn(page, ADMIN.username, ADMIN.password);
    const screens: [string, string, () => Promise<unknown>][] = [
      ['dashboard', '/', () => page.getByTestId('online').waitFor()],
      ['emergency', '/emergency', () => page.getByTestId('preset-0').waitFor()],
      ['compose', '/compose', () => page.getByLabel('Tiêu đề').waitFor()],
      ['cluster list', '/clusters', () => page.locator('main ul.list > li').nth(33).waitFor()],
      ['cluster detail', '/clusters/dt-02', () => page.locator('.charts .uplot').first().waitFor()],
      ['map', '/map', () => page.locator('[data-testid=map][data-state=ready] .leaflet-marker-icon').first().waitFor()],
      ['broadcasts', '/broadcasts', () => page.getByRole('heading', { name: 'Phát thanh' }).waitFor()],
      ['devices', '/devices', () => page.locator('[data-cluster]').first().waitFor()],
      ['users', '/users', () => page.locator('[data-user]').first().waitFor()],
      ['account', '/account', () => page.getByLabel('Mật khẩu hiện tại').waitFor()],
    ];
    for (const [name, path, ready] of screens) {
      await page.goto(path);
      await ready();
      found.push(...(await audit(page, name)));
    }
    // A form showing server errors is audited too (error text colour, aria-describedby).
    await page.goto('/compose');
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    await page.locator('.field-error').first().waitFor();
    found.push(...(await audit(page, 'compose with errors')));
    expect(found).toEqual([]);
    expect(external).toEqual([]);
    await ctx.close();
  }, 120_000);

  it('airs an emergency with the keyboard alone (Tab and Enter)', async () => {
    const { page, ctx } = await newPage(d.browser, d.srv.httpUrl, PHONE);
    await page.goto('/');
    await page.getByLabel('Tên đăng nhập').waitFor();
    await tabTo(page, (el) => el.getAttribute('autocomplete') === 'username');
    await page.keyboard.type(OP.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(OP.password);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Tổng quan' }).waitFor();
    const toEmergency = await tabTo(page, (el) => el.classList.contains('emergency-btn'));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Phát thanh khẩn cấp/ }).waitFor();
    expect(await page.evaluate(() => [document.activeElement?.id, document.title])).toEqual(['main', 'Phát thanh khẩn cấp – Loa Xã']);
    // Focus moved to the new screen: the presets are the next stops, not the top of the page again.
    const toPreset = await tabTo(page, (el) => el.getAttribute('data-testid') === 'preset-0', 5);
    await page.keyboard.press('Enter');
    expect(await page.getByLabel('Nội dung khẩn cấp').inputValue()).toMatch(/^Khẩn cấp: bão/);
    const toConfirm = await tabTo(page, (el) => el.textContent === 'Xác nhận phát ngay', 8);
    await shot(page, 'keyboard-emergency-360');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/broadcasts\/[^/]+$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const b = await waitFor(async () => {
      const r = (await d.srv.api('GET', `/api/broadcasts/${id}`)).body;
      return r.delivery.started === 18 ? r : null;
    }, 30_000, 250);
    expect(b).toMatchObject({ level: 'emergency', targets: { areaIds: ['dong-thanh'] } });
    // Issue 10: the badge says "Khẩn cấp"; a title starting with it again read "Khẩn cấp Khẩn cấp: …".
    expect(b.title).toMatch(/^Bão đang đổ bộ/);
    console.info(`keyboard emergency: ${toEmergency} + ${toPreset} + ${toConfirm} Tab presses, 3 Enter`);
    await ctx.close();
  }, 90_000);
});
