import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { SimFleet } from '../../firmware-sim/src/index.ts';
import type { StreamSwitch } from '../../schemas/api/live.ts';
import { vi as VI } from '../../web/src/i18n/vi.ts';
import { controllable, type Controllable } from '../helpers/bad-upstreams.ts';
import { decodeOgg, findMarkers } from '../helpers/markers.ts';
import { waitFor } from '../helpers/server.ts';
import { hasChromium, newPage, openPlace, PHONE, shot, signIn } from './browser.ts';
import { startDemoConsole, type DemoConsole, type TestServer } from './demo.ts';

const OP = { username: 'vanhanh', password: 'mat-khau-van-hanh-1' };
const SOURCE = 'Đài thử nghiệm xã';
const TITLE = 'Tiếp sóng thử toàn xã';
const STALL_S = 3;
const RETRY_S = 5;
const RATE = 48_000;
/** One Ogg page of the live stream: 40 ms. */
const PAGE = 1920;
/** Why a stream switched, in the console's words (sw.* of vi.ts). */
const SWITCH_WORDS = Object.entries(VI)
  .filter(([k]) => k.startsWith('sw.'))
  .map(([, v]) => v as string);

interface Heard {
  granule: number;
  trueMs: number;
}

/** Every page of the broadcast's stream each of the fleet's clusters plays: its end granule and the true instant it began. */
function listen(fleet: SimFleet, broadcastId: () => string | null) {
  const heard = new Map<string, Heard[]>();
  for (const c of fleet.clusters) {
    const pages: Heard[] = [];
    heard.set(c.id, pages);
    c.on('streamPage', (p) => {
      if (p.itemId === broadcastId()) pages.push({ granule: p.granule, trueMs: p.trueMs });
    });
  }
  /** The true instant cluster `id` played sample `g`, or null if it did not (no page either side of it). */
  const at = (id: string, g: number): number | null => {
    const pages = heard.get(id)!;
    for (let i = 1; i < pages.length; i++) {
      const [a, b] = [pages[i - 1]!, pages[i]!];
      if (a.granule <= g && g < b.granule && b.granule - a.granule <= 2 * PAGE) return b.trueMs + ((g - a.granule) * 1000) / RATE;
    }
    return null;
  };
  return {
    heard,
    at,
    /** Clusters that played at least `ms` of the stream after true instant `since`. */
    playingSince(since: number, ms: number): string[] {
      return [...heard].filter(([, p]) => {
        const after = p.filter((x) => x.trueMs >= since);
        return after.length > 1 && after[after.length - 1]!.granule - after[0]!.granule >= (ms * RATE) / 1000;
      }).map(([id]) => id);
    },
    /**
     * How far apart the clusters play the same samples: `n` granules spread over what every one of `ids` played
     * between true instants `from` and `to`; for each, the latest cluster's instant minus the earliest's.
     */
    spread(ids: string[], from: number, to: number, n = 12): { spreads: number[]; clusters: number } {
      const spans = ids.map((id) => {
        const p = heard.get(id)!.filter((x) => x.trueMs >= from && x.trueMs <= to);
        return p.length > 1 ? [p[0]!.granule, p[p.length - 1]!.granule - PAGE] : null;
      });
      const lo = Math.max(...spans.map((s) => s?.[0] ?? Infinity));
      const hi = Math.min(...spans.map((s) => s?.[1] ?? -Infinity));
      const spreads: number[] = [];
      let clusters = 0;
      for (let k = 0; k < n && hi > lo; k++) {
        const g = Math.round(lo + ((hi - lo) * (k + 0.5)) / n);
        const t = ids.map((id) => at(id, g)).filter((x): x is number => x !== null);
        if (t.length < 2) continue;
        clusters = Math.max(clusters, t.length);
        spreads.push(Math.max(...t) - Math.min(...t));
      }
      return { spreads, clusters };
    },
    /** The longest gap between consecutive pages of cluster `id` (true time, less the page's own length) within [from, to]. */
    worstGap(id: string, from: number, to: number): number {
      const p = heard.get(id)!.filter((x) => x.trueMs >= from && x.trueMs <= to);
      let worst = -Infinity;
      for (let i = 1; i < p.length; i++) worst = Math.max(worst, p[i]!.trueMs - p[i - 1]!.trueMs - ((p[i]!.granule - p[i - 1]!.granule) * 1000) / RATE);
      return worst;
    },
  };
}

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Nothing wider than the phone: the page does not scroll sideways, and no element sticks out past its right edge. */
async function sideways(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out = [...document.querySelectorAll('main *')].filter((el) => el.checkVisibility() && el.getBoundingClientRect().right > innerWidth + 1).map((el) => `${el.tagName.toLowerCase()}: ${(el.textContent ?? '').trim().slice(0, 40)}`);
    if (document.documentElement.scrollWidth > innerWidth) out.unshift(`page ${document.documentElement.scrollWidth} px wide`);
    return out;
  });
}

/** The detail page's "X/18 cụm đang phát" as the number X. */
async function onAirCount(page: Page): Promise<number> {
  const m = (await page.getByTestId('live-on-air').innerText().catch(() => '')).match(/^(\d+)\/18 cụm đang phát$/);
  return m ? Number(m[1]) : -1;
}

/**
 * Tiếp sóng (issue 12, "Done when"), in Debian's Chromium at 360 × 740: an operator of Đồng Thạnh adds a relay
 * source (a primary and a backup upstream started by the test, a 3 s stall) on Nguồn tiếp sóng, relays it to the
 * whole commune from the broadcast form, and watches the broadcast: the clusters play in step (their true play
 * instants from the simulated device clocks), the primary's death switches the stream to the backup and its return
 * back, with the reasons in words, and the broadcast, ended from the console, keeps the recording of what aired.
 */
describe.skipIf(!hasChromium)('console: relaying an upstream to the commune, with failover', () => {
  let con: DemoConsole;
  let srv: TestServer;
  let browser: Browser;
  let primary: Controllable;
  let backup: Controllable;

  beforeAll(async () => {
    [primary, backup] = await Promise.all([controllable({ markerEveryS: 1 }), controllable({ markerEveryS: 1 })]);
    con = await startDemoConsole([{ ...OP, role: 'operator', areaIds: ['dong-thanh'] }]);
    ({ srv, browser } = con);
  }, 120_000);
  afterAll(async () => {
    await con?.close();
    await primary?.close();
    await backup?.close();
  });

  it('adds the source, relays it to Đồng Thạnh in step, fails over to the backup and back, and keeps the recording', async () => {
    let broadcastId: string | null = null;
    const heard = listen(con.demo.fleet, () => broadcastId);
    const { page, external } = await newPage(browser, srv.httpUrl, PHONE);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const dialogs: string[] = [];
    page.on('dialog', (d) => (dialogs.push(d.message()), void d.accept()));
    await signIn(page, OP.username, OP.password);

    // 1. Nguồn tiếp sóng: a new source with the test's upstreams, a backup and a 3 s stall, through the form.
    await openPlace(page, 'Nguồn tiếp sóng');
    await page.getByRole('heading', { name: 'Nguồn tiếp sóng', level: 1 }).waitFor();
    await page.getByTestId('source').filter({ hasText: 'Kênh thử (trên máy chủ)' }).waitFor();
    await page.getByRole('button', { name: '+ Thêm nguồn tiếp sóng' }).click();
    const form = page.getByTestId('source-form');
    await form.getByLabel('Tên nguồn').fill(SOURCE);
    await form.getByLabel('Địa chỉ nguồn chính').fill(primary.url);
    await form.getByRole('button', { name: '+ Thêm nguồn dự phòng' }).click();
    await form.getByLabel('Nguồn dự phòng 1', { exact: true }).fill(backup.url);
    await form.getByLabel('Mất tiếng bao lâu thì đổi nguồn (giây)').fill(String(STALL_S));
    await form.getByLabel('Thử lại nguồn chính sau mỗi (giây)').fill(String(RETRY_S));
    await shot(page, 'relay-360-source-form');
    await form.getByRole('button', { name: 'Thêm nguồn', exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Đã thêm nguồn «${SOURCE}».` }).waitFor();
    const row = page.getByTestId('source').filter({ hasText: SOURCE });
    await row.waitFor();
    expect(await row.innerText()).toContain('1 nguồn dự phòng');
    expect(await row.getByTestId('source-live').innerText()).toContain('Không tiếp sóng lúc này');
    await shot(page, 'relay-360-sources');
    expect(await sideways(page)).toEqual([]);
    const src = ((await srv.api('GET', '/api/live/sources')).body as { id: string; name: string; primaryUrl: string; backupUrls: string[]; stallS: number; retryS: number }[]).find((s) => s.name === SOURCE)!;
    expect(src).toMatchObject({ primaryUrl: primary.url, backupUrls: [backup.url], stallS: STALL_S, retryS: RETRY_S });

    // 2. Soạn bản tin: Tiếp sóng from that source to all of Đồng Thạnh for 2 minutes, at priority level.
    await openPlace(page, 'Soạn bản tin');
    await page.getByRole('heading', { name: 'Soạn bản tin' }).waitFor();
    await page.getByLabel('Tiêu đề').fill(TITLE);
    await page.getByLabel('Mức độ').selectOption({ label: 'Ưu tiên' });
    await page.getByRole('radio', { name: 'Tiếp sóng' }).check();
    const pick = page.getByLabel('Nguồn tiếp sóng', { exact: true });
    await pick.locator('option', { hasText: SOURCE }).waitFor({ state: 'attached' });
    await pick.selectOption({ label: SOURCE });
    await page.getByLabel('Thời lượng (phút)').fill('2');
    await page.getByRole('checkbox', { name: 'Đồng Thạnh' }).check();
    expect(await page.getByTestId('start-summary').innerText()).toBe('Phát ngay khi gửi.');
    await shot(page, 'relay-360-compose');
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    await page.waitForURL(/\/broadcasts\/[^/]+$/, { timeout: 15_000 });
    broadcastId = new URL(page.url()).pathname.split('/').pop()!;

    // Đồng Thạnh's leaders approve an operator's bulletins first, emergencies aside (the form offers normal and
    // priority): the broadcast waits, and a leader approves it (here the admin, through the API).
    const created = (await srv.api('GET', `/api/broadcasts/${broadcastId}`)).body;
    expect(created).toMatchObject({ title: TITLE, level: 'priority', state: 'pending_approval', source: { relay: { sourceId: src.id, durationS: 120 } } });
    await page.getByText('Chờ duyệt', { exact: true }).first().waitFor();
    expect((await srv.api('POST', `/api/broadcasts/${broadcastId}/approve`)).status).toBe(200);
    // The operator is told at once; the notice is read and closed (it sits over the foot of the page until then).
    const notices = page.getByTestId('notices');
    await notices.getByRole('link', { name: `Bản tin «${TITLE}» đã được duyệt bởi admin.` }).waitFor({ timeout: 15_000 });
    await notices.getByRole('button', { name: 'Đóng' }).click();

    // 3. On air from the primary, 15 or more of the 18 clusters playing, and in step.
    const live = page.getByTestId('broadcast-live');
    await live.waitFor({ timeout: 15_000 });
    expect(await live.getByRole('heading').first().innerText()).toBe(`Tiếp sóng ${SOURCE}`);
    const onAirT0 = Date.now();
    await waitFor(async () => (await onAirCount(page)) >= 15, 60_000, 250);
    console.info(`live-relay: ${await onAirCount(page)}/18 on air ${((Date.now() - onAirT0) / 1000).toFixed(1)} s after the approval`);
    expect(await page.getByTestId('live-input').innerText()).toBe('nguồn chính');
    expect(await live.getByTestId('switches').innerText()).toContain(VI['sw.started']);
    // Some seconds of steady play on 15 clusters or more, measured from the clusters' own pages.
    const steadyFrom = Date.now();
    const before = await waitFor(() => {
      const ids = heard.playingSince(steadyFrom, 5000);
      return ids.length >= 15 ? ids : null;
    }, 30_000, 200);
    await shot(page, 'relay-360-on-air');
    expect(await sideways(page)).toEqual([]);
    const killAt = Date.now();
    const step = heard.spread(before, steadyFrom, killAt);
    console.info(`live-relay in step on the primary, ${step.clusters} clusters: spread ${fmt(step.spreads)} ms (median ${median(step.spreads).toFixed(1)})`);
    expect(step.clusters).toBeGreaterThanOrEqual(15);
    expect(step.spreads.length).toBeGreaterThanOrEqual(6);
    // The ≤ 20 ms target is held by the simulator's and the relay's own tests and the benchmark; 34 simulated
    // clusters sharing two cores with the server and Chromium only show that they play by the stamps.
    expect(Math.max(...step.spreads)).toBeLessThanOrEqual(50);

    // 4. The primary dies: the detail says the stream went to backup 1, and why, within the stall and a few seconds.
    const underrunsBefore = con.demo.fleet.stats().airingsUnderrun;
    await primary.kill();
    const switches = async () => ((await srv.api('GET', `/api/broadcasts/${broadcastId}`)).body.live?.switches ?? []) as StreamSwitch[];
    const toBackup = await waitFor(async () => (await switches()).find((s) => s.from === 'primary' && s.to === 'backup 1' && Date.parse(s.at) >= killAt - 50), (STALL_S + 12) * 1000, 100);
    const failoverMs = Date.parse(toBackup.at) - killAt;
    await page.waitForFunction(() => document.querySelector('[data-testid=live-input]')?.textContent === 'nguồn dự phòng 1', null, { timeout: 10_000 });
    const latest = () => live.getByTestId('switches').locator('li').first().innerText();
    const toBackupLine = await latest();
    expect(toBackupLine).toContain('nguồn chính → nguồn dự phòng 1');
    expect(toBackupLine).toMatch(/^\d\d:\d\d:\d\d \d\d\/\d\d /); // to the second: switches come seconds apart
    expect(SWITCH_WORDS.some((w) => toBackupLine.includes(w))).toBe(true);
    expect(toBackupLine).toContain(VI[`sw.${toBackup.reason}` as keyof typeof VI]);
    console.info(`live-relay primary killed: on backup 1 after ${failoverMs} ms (${toBackup.reason}: "${toBackupLine}")`);
    expect(failoverMs).toBeLessThanOrEqual((STALL_S + 5) * 1000);
    await shot(page, 'relay-360-backup');
    expect(await sideways(page)).toEqual([]);

    // The clusters play on, from the backup, still together.
    const onBackupFrom = Date.now();
    const onBackup = await waitFor(() => {
      const ids = heard.playingSince(onBackupFrom, 3000);
      return ids.length >= before.length ? ids : null;
    }, 20_000, 200);
    const backupStep = heard.spread(onBackup, onBackupFrom, Date.now());
    console.info(`live-relay in step on the backup, ${backupStep.clusters} clusters: spread ${fmt(backupStep.spreads)} ms`);
    expect(Math.max(...backupStep.spreads)).toBeLessThanOrEqual(50);

    // The primary comes back at the same address: the stream returns to it once it has played for a while.
    const restartAt = Date.now();
    await primary.restart();
    const back = await waitFor(async () => (await switches()).find((s) => s.from === 'backup 1' && s.to === 'primary' && Date.parse(s.at) >= restartAt), (RETRY_S + 15) * 1000, 200);
    await page.waitForFunction(() => document.querySelector('[data-testid=live-input]')?.textContent === 'nguồn chính', null, { timeout: 10_000 });
    const backLine = await latest();
    expect(backLine).toContain('nguồn dự phòng 1 → nguồn chính');
    expect(backLine).toContain(VI['sw.recovered']);
    // Each switch once, in order, on the detail as from the API (the start is not doubled).
    expect((await switches()).map((s) => `${s.from}>${s.to}`)).toEqual(['silence>primary', 'primary>backup 1', 'backup 1>primary']);
    expect(await live.getByTestId('switches').locator('li').count()).toBe(3);
    console.info(`live-relay primary back: on the primary ${Date.parse(back.at) - restartAt} ms after it listened again (${back.reason})`);
    await shot(page, 'relay-360-recovered');

    // No cluster stopped across both switches: each that played before the kill plays on after the return.
    const backAt = Date.parse(back.at);
    const after = await waitFor(() => {
      const ids = heard.playingSince(backAt + 500, 3000);
      return before.every((id) => ids.includes(id)) ? ids : null;
    }, 20_000, 200).catch(() => heard.playingSince(backAt + 500, 3000));
    expect(before.filter((id) => !after.includes(id))).toEqual([]);
    const gaps = before.map((id) => heard.worstGap(id, killAt, Date.now()));
    const underruns = con.demo.fleet.stats().airingsUnderrun - underrunsBefore;
    console.info(`live-relay across the failover and back: ${underruns} underruns in the fleet, worst gap between pages per cluster p50 ${median(gaps).toFixed(1)} ms, max ${Math.max(...gaps).toFixed(1)} ms; the detail says ${await page.getByTestId('live-underruns').innerText()}`);
    const afterStep = heard.spread(after, backAt + 500, Date.now());
    console.info(`live-relay in step on the primary again, ${afterStep.clusters} clusters: spread ${fmt(afterStep.spreads)} ms`);
    expect(Math.max(...afterStep.spreads)).toBeLessThanOrEqual(50);
    expect(await onAirCount(page)).toBeGreaterThanOrEqual(15);

    // 5. The operator ends it from the console; the broadcast keeps the recording of what aired.
    const cancelAt = Date.now();
    await page.getByRole('button', { name: 'Dừng phát' }).click();
    await page.getByText('Đã hủy').first().waitFor({ timeout: 15_000 });
    expect(dialogs).toEqual([`Dừng phát bản tin «${TITLE}» trên mọi cụm loa?`]);
    // The stream lingers a little for a back-to-back slot, then stops and files its recording.
    const recordingId = await waitFor(async () => (await srv.api('GET', `/api/broadcasts/${broadcastId}`)).body.live?.recordingId as string | null, 60_000, 500);
    const audio = page.getByTestId('live-recording');
    await audio.waitFor({ timeout: 15_000 });
    expect(await audio.getAttribute('src')).toBe(`/api/content/${recordingId}/audio`);
    const rec = (await srv.api('GET', `/api/content/${recordingId}`)).body;
    expect(rec).toMatchObject({ id: recordingId, source: 'recording', state: 'ready' });
    expect(rec.title).toContain(`Tiếp sóng ${SOURCE}`);
    // It covers the airing, from before the clusters played to the cancel, and holds the programme: the upstreams
    // send a 2 kHz marker every second, through both switches.
    const onAirS = (cancelAt - onAirT0) / 1000;
    expect(rec.durationMs).toBeGreaterThanOrEqual((onAirS - 3) * 1000);
    expect(await page.evaluate(async (id) => (await fetch(`/api/content/${id}/audio`, { headers: { range: 'bytes=0-15' } })).status, recordingId)).toBe(206);
    const res = await fetch(`${srv.httpUrl}/api/content/${recordingId}/audio`, { headers: { authorization: `Bearer ${srv.token}` } });
    expect(res.status).toBe(200);
    const markers = findMarkers(await decodeOgg(Buffer.from(await res.arrayBuffer())));
    console.info(`live-relay recording ${recordingId}: ${(rec.durationMs / 1000).toFixed(1)} s (${onAirS.toFixed(1)} s on air before the cancel), ${markers.length} markers`);
    expect(markers.length).toBeGreaterThanOrEqual(Math.floor(onAirS * 0.6));

    // Every cluster's airing is in the broadcast's log, cluster by cluster.
    await page.locator('summary', { hasText: 'Từng cụm loa' }).click();
    const table = page.getByTestId('airings');
    await table.waitFor();
    const airings = (await srv.api('GET', `/api/broadcasts/${broadcastId}/airings`)).body as { clusterId: string; state: string; startedAt: string | null }[];
    expect(airings.length).toBe(18);
    expect(airings.filter((a) => a.startedAt !== null).length).toBeGreaterThanOrEqual(15);
    expect(await table.locator('tbody tr').count()).toBe(18);
    await shot(page, 'relay-360-ended');
    expect(pageErrors).toEqual([]);
    expect(external).toEqual([]);
  }, 180_000);
});
