import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { startDemo } from '../../server/src/demo/start-demo.ts';
import { startServer, waitFor, type TestServer } from '../helpers/server.ts';
import { hasChromium, launch, newPage, shot, signIn, PHONE, DESKTOP } from './browser.ts';
import { ensureBuilt } from './build.ts';
import { ADMIN } from './demo.ts';

/** A 256 px PNG tile: a pale field with a grid, so a screenshot shows the tiles are there. */
function gridTile(): Buffer {
  const size = 256;
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3); // filter byte 0, then RGB
    for (let x = 0; x < size; x++) {
      const line = x % 64 === 0 || y % 64 === 0;
      row.set(line ? [0xc9, 0xd3, 0xbd] : [0xee, 0xf2, 0xe6], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
const PNG = gridTile();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const ATTRIBUTION = '© OpenStreetMap contributors';
/** Around the demo fleet (Đồng Thạnh and Bình Phú). */
const BOX = { south: 10.33, north: 10.41, west: 106.53, east: 106.63 };

const tileX = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z);
const tileY = (lat: number, z: number) => {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
};

/** An MBTiles file covering BOX at zooms 3–18, rows in TMS order as the spec stores them. */
function writeMbtiles(file: string): number {
  const db = new Database(file);
  db.exec('CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);');
  const put = db.prepare('INSERT INTO tiles VALUES (?, ?, ?, ?)');
  let n = 0;
  db.transaction(() => {
    for (let z = 3; z <= 18; z++)
      for (let x = tileX(BOX.west, z); x <= tileX(BOX.east, z); x++)
        for (let y = tileY(BOX.north, z); y <= tileY(BOX.south, z); y++) put.run(z, x, 2 ** z - 1 - y, PNG), n++;
  })();
  db.close();
  return n;
}

const OUTLINES = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { areaId: 'dong-thanh', name: 'Đồng Thạnh' }, geometry: { type: 'Polygon', coordinates: [[[106.588, 10.342], [106.626, 10.342], [106.626, 10.377], [106.588, 10.377], [106.588, 10.342]]] } },
  ],
};

/** Content-Security-Policy refusals seen by the page: Leaflet must work under the console's policy as it is. */
async function watchCsp(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(() => {
    (window as any).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}
const cspRefusals = (page: Page) => page.evaluate(() => (window as any).__csp as string[]);

async function axeSerious(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return r.violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.html.slice(0, 120)).join(' | ')}`);
  });
}

/** Sizes from the DOM: the drawn pin (svg) and the box a finger hits (the marker element), for every pin shown. */
const pinSizes = (page: Page) =>
  page.locator('.leaflet-marker-icon:has(.pin-hit)').evaluateAll((els) =>
    els.map((el) => {
      const hit = el.getBoundingClientRect();
      const drawn = el.querySelector('.pin-svg')!.getBoundingClientRect();
      // Rounded: a pane left at scale 0.9999999 by a zoom animation measures 43.999996.
      const px = (n: number) => Math.round(n * 10) / 10;
      return { id: el.querySelector('.pin-hit')!.getAttribute('data-cluster'), hit: [px(hit.width), px(hit.height)], drawn: [px(drawn.width), px(drawn.height)] };
    }),
  );
/** What the map shows: single pins and groups (with how many pins each holds). */
const shown = (page: Page) =>
  page.evaluate(() => ({
    pins: document.querySelectorAll('.leaflet-marker-icon .pin-hit').length,
    groups: [...document.querySelectorAll('.leaflet-marker-icon .pin-group')].map((g) => Number(g.getAttribute('data-count'))),
  }));
/** Waits out Leaflet's zoom and the cluster plugin's split animation (which may start a moment after the tap). */
async function settle(page: Page): Promise<void> {
  await page.waitForTimeout(350);
  await page.waitForFunction(() => !document.querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim'));
}
/** Taps a group shown whole inside the map (optionally one holding an offline pin); false when there is none. */
async function tapGroup(page: Page, sel = '.pin-group'): Promise<boolean> {
  const at = await page.evaluate((sel) => {
    const map = document.querySelector('[data-testid=map]')!.getBoundingClientRect();
    for (const g of document.querySelectorAll(`.leaflet-marker-icon ${sel}`)) {
      const r = g.getBoundingClientRect();
      const [x, y] = [r.x + r.width / 2, r.y + r.height / 2];
      if (r.left < map.left || r.right > map.right || r.top < map.top || r.bottom > map.bottom) continue;
      if (document.elementFromPoint(x, y)?.closest('.pin-group') === g) return { x, y };
    }
    return null;
  }, sel);
  if (at) await page.mouse.click(at.x, at.y);
  if (at) await settle(page);
  return Boolean(at);
}

async function openMap(page: Page): Promise<void> {
  await signIn(page, ADMIN.username, ADMIN.password);
  await page.goto('/map');
  await page.locator('[data-testid=map][data-state=ready]').waitFor();
  await page.locator('.leaflet-marker-icon').first().waitFor();
  await page.getByTestId('map').evaluate((el) => el.scrollIntoView({ block: 'center' }));
  await settle(page);
}

describe.skipIf(!hasChromium)('the map: Leaflet with the server’s own tiles, the demo fleet over real MQTT', () => {
  let srv: TestServer;
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let b: Awaited<ReturnType<typeof launch>>;
  let tmp: string;
  let names: Map<string, string>;
  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'loa-e2e-map-'));
    expect(writeMbtiles(join(tmp, 'xa.mbtiles'))).toBeGreaterThan(100);
    writeFileSync(join(tmp, 'outlines.geojson'), JSON.stringify(OUTLINES));
    srv = await startServer({ LOA_TILE_MBTILES: join(tmp, 'xa.mbtiles'), LOA_TILE_ATTRIBUTION: ATTRIBUTION, LOA_AREA_OUTLINES: join(tmp, 'outlines.geojson') });
    demo = await startDemo(srv.app, srv.mqttPort, Number(new URL(srv.httpUrl).port));
    b = await launch();
    await waitFor(async () => (await srv.api('GET', '/api/clusters?online=true')).body.total === 34, 30_000, 250);
    names = new Map((await srv.api('GET', '/api/clusters')).body.items.map((c: any) => [c.id, c.name]));
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await demo?.stop();
    await srv?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('at 360 px: pins of 26 px in 44 px targets, groups that split on zoom-in, a name on tap, tiles from MBTiles, outlines', async () => {
    const { page, ctx, external } = await newPage(b.browser, srv.httpUrl, PHONE);
    await watchCsp(ctx);
    const tiles: { path: string; type: string | undefined }[] = [];
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/tiles/') && r.status() === 200) tiles.push({ path: u.pathname, type: r.headers()['content-type'] });
    });
    await openMap(page);
    expect(await page.getByRole('region', { name: 'Bản đồ vị trí các cụm loa' }).count()).toBe(1);
    // The Đồng Thạnh outline is an SVG path in Leaflet's overlay pane, drawn over the whole fleet's view.
    const outline = page.locator('.leaflet-overlay-pane svg path.area-outline');
    await outline.waitFor();
    const drawn = (await outline.boundingBox())!;
    expect(Math.min(drawn.width, drawn.height)).toBeGreaterThan(40);

    // Close pins are grouped at the zoom that fits all 34; every cluster is either a pin or inside a group.
    const before = await shown(page);
    expect(before.groups.length).toBeGreaterThan(0);
    expect(before.pins + before.groups.reduce((a, n) => a + n, 0)).toBe(34);
    for (const g of await page.locator('.leaflet-marker-icon:has(.pin-group)').all()) {
      const box = (await g.boundingBox())!;
      expect(Math.round(Math.min(box.width, box.height))).toBeGreaterThanOrEqual(44);
    }

    // Tapping a group zooms in on it and it comes apart (into smaller groups first), until single pins show.
    const icons = before.pins + before.groups.length;
    expect(await tapGroup(page)).toBe(true);
    expect((await shown(page)).groups.length + (await shown(page)).pins).toBeGreaterThan(icons);
    expect(Math.max(0, ...(await shown(page)).groups)).toBeLessThan(Math.max(...before.groups));
    for (let i = 0; i < 6 && !(await shown(page)).pins; i++) await tapGroup(page);
    const sizes = await pinSizes(page);
    expect(sizes.length).toBeGreaterThan(0);
    for (const p of sizes) {
      expect(Math.min(...p.drawn), p.id!).toBeGreaterThanOrEqual(24);
      expect(Math.min(...p.hit), p.id!).toBeGreaterThanOrEqual(44);
    }

    // A tap 19 px off the middle (outside the 26 px drawing, inside the 44 px box) still opens the pin: the first
    // pin and side where no neighbour lies over that spot. The popup names the cluster and links to its page.
    const target = await page.evaluate(() => {
      for (const el of document.querySelectorAll('.leaflet-marker-icon .pin-hit')) {
        const r = el.getBoundingClientRect();
        const [cx, cy] = [r.x + r.width / 2, r.y + r.height / 2];
        for (const [dx, dy] of [[19, 0], [-19, 0], [0, 19], [0, -19]]) {
          const hit = document.elementFromPoint(cx + dx, cy + dy)?.closest('.pin-hit');
          if (hit === el) return { id: el.getAttribute('data-cluster')!, x: cx + dx, y: cy + dy };
        }
      }
      return null;
    });
    expect(target).not.toBeNull();
    const id = target!.id;
    await page.mouse.click(target!.x, target!.y);
    const popup = page.locator('.leaflet-popup .pin-popup');
    await popup.waitFor();
    expect(await popup.getAttribute('data-cluster')).toBe(id);
    expect(await popup.getByRole('link').innerText()).toBe(names.get(id));
    expect(await popup.getByRole('link').getAttribute('href')).toBe('/clusters/' + id);
    expect(await popup.innerText()).toContain('Trực tuyến');
    expect(await page.locator('.leaflet-popup-close-button').getAttribute('aria-label')).toBe('Đóng');

    // Tiles come from the MBTiles file through /tiles, drawn (not failed), and the attribution is on the map.
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('img.leaflet-tile')].some((i) => i.complete && i.naturalWidth > 0));
    const srcs = await page.locator('img.leaflet-tile').evaluateAll((els) => els.map((e) => new URL((e as HTMLImageElement).src).pathname));
    for (const s of srcs) expect(s).toMatch(/^\/tiles\/\d+\/\d+\/\d+$/);
    await waitFor(() => tiles.length > 0);
    for (const t of tiles) expect(t.type).toBe('image/png');
    expect(await page.getByTestId('no-tiles').count()).toBe(0);
    expect(await page.locator('.leaflet-control-attribution').innerText()).toBe(ATTRIBUTION);

    await Promise.all([page.waitForURL('**/clusters/' + id), popup.getByRole('link').click()]);
    await page.getByRole('heading', { level: 1, name: names.get(id) }).waitFor();
    await page.goBack();
    await page.locator('[data-testid=map][data-state=ready]').waitFor();
    await page.locator('.leaflet-marker-icon').first().waitFor();
    await settle(page);
    await shot(page, 'map-phone');
    expect(await axeSerious(page)).toEqual([]);
    expect(await cspRefusals(page)).toEqual([]);
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('at 1440 px: a stopped cluster is listed by name “mất kết nối từ HH:mm dd/MM” and stands out on the map', async () => {
    const gone = 'bp-05';
    await demo.fleet.get(gone)!.stop();
    await waitFor(async () => (await srv.api('GET', `/api/clusters/${gone}`)).body.health.online === false, 20_000, 100);
    const { page, ctx, external } = await newPage(b.browser, srv.httpUrl, DESKTOP);
    await watchCsp(ctx);
    await openMap(page);

    const row = page.getByTestId('offline-list').locator(`li[data-cluster=${gone}]`);
    await row.waitFor();
    expect(await row.getByRole('link').innerText()).toBe(names.get(gone));
    expect(await row.innerText()).toMatch(/mất kết nối từ \d{2}:\d{2} \d{2}\/\d{2}/);
    expect(await page.getByTestId('offline-list').locator('li').count()).toBe(1);

    // On the map: either its own dark pin with a cross, or a group whose badge counts one offline.
    const own = page.locator(`.pin-hit[data-cluster=${gone}]`);
    if (await own.count()) expect(await own.getAttribute('data-status')).toBe('offline');
    else expect(await page.locator('.pin-group[data-offline="1"] .b-offline').innerText()).toBe('×1');

    // Tapped (its group, then the smaller group) until it is a pin of its own.
    for (let i = 0; i < 8 && !(await own.count()); i++) {
      if (await tapGroup(page, '.pin-group[data-offline="1"]')) continue;
      await page.getByRole('button', { name: 'Phóng to', exact: true }).click();
      await settle(page);
    }
    await own.waitFor();
    // Drawn above its neighbours: the middle of it is the offline pin, not one lying over it.
    await own.scrollIntoViewIfNeeded();
    const hit = await own.evaluate((el) => {
      const r = el.querySelector('.pin-svg')!.getBoundingClientRect();
      return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)?.closest('.pin-hit')?.getAttribute('data-cluster');
    });
    expect(hit).toBe(gone);
    for (const p of await pinSizes(page)) expect(Math.min(...p.hit), p.id!).toBeGreaterThanOrEqual(44);
    await own.click();
    await page.locator('.leaflet-popup .pin-popup').getByText(/^Mất kết nối từ \d{2}:\d{2} \d{2}\/\d{2}$/).waitFor();
    await page.waitForFunction(() => getComputedStyle(document.querySelector('.leaflet-popup')!).opacity === '1'); // faded in
    await shot(page, 'map-desktop');
    expect(await cspRefusals(page)).toEqual([]);
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);
});
