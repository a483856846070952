import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OggPageReader, opusPreSkip } from '../../schemas/device-protocol/index.ts';
import { runFfmpeg } from '../../server/src/content/ffmpeg.ts';
import type { SimFleet } from '../../firmware-sim/src/index.ts';
import { decodeOgg, markerInputArgs } from '../helpers/markers.ts';
import { waitFor } from '../helpers/server.ts';
import { hasChromium, newPage, shot, signIn, openPlace, PHONE } from './browser.ts';
import { startDemoConsole, type DemoConsole, type TestServer } from './demo.ts';

const OP = { username: 'vanhanh', password: 'mat-khau-van-hanh-1' };
const RATE = 48_000;

/**
 * The fake microphone's signal: the marker programme of the relay tests (a quiet 220 Hz bed with a loud 2 kHz burst
 * of 0.2 s every 2 s; Chromium loops the file), so the meter has a bed and bursts to follow, and the audio that
 * reaches the clusters starts the instant the talk button unmutes the track.
 */
async function markerWav(file: string): Promise<string> {
  const run = await runFfmpeg(['-hide_banner', '-v', 'error', '-y', ...markerInputArgs({ everyS: 2, durationS: 10 }), '-ac', '1', '-c:a', 'pcm_s16le', file]);
  if (run.code !== 0) throw new Error(run.stderr);
  return file;
}

/**
 * Where audio begins after silence in a recording of the stream (a press of the talk button: released, the track
 * is muted and sends digital silence), as granule positions: decoded sample k is granule start + preSkip + k, where
 * start is where the first audio page begins (RFC 7845 §4; ffmpeg drops the pre-skip). The thresholds sit far below
 * the signal because the browser's noise suppression takes a steady bed down by some 20 dB until speech (here the
 * 2 kHz burst) comes: what goes on air first after a press is quiet, but it is not silence.
 */
async function talkOnsets(ogg: Buffer): Promise<{ onsets: number[]; profile: string }> {
  const pages = new OggPageReader().push(ogg);
  const preSkip = opusPreSkip(pages[0]!.body);
  const audio = pages.slice(2);
  const start = audio[0]!.granule - (audio[1]!.granule - audio[0]!.granule);
  const pcm = await decodeOgg(ogg);
  const s = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + (pcm.length & ~1)));
  const W = 480;
  const rms: number[] = [];
  for (let k = 0; (k + 1) * W <= s.length; k++) {
    let sum = 0;
    for (let i = k * W; i < (k + 1) * W; i++) sum += (s[i]! / 32768) ** 2;
    rms.push(Math.sqrt(sum / W));
  }
  // Muted, the track is digital silence: the threshold sits just above what the codecs leave of it.
  const floor = Math.min(...rms);
  const thr = 0.001;
  const onsets: number[] = [];
  let quiet = 0;
  let longestQuiet = 0;
  rms.forEach((r, k) => {
    const loud = r > thr;
    if (loud && quiet >= 50) {
      // to the sample: the first one clearly above the codecs' noise
      let i = k * W;
      while (Math.abs(s[i]!) < 0.0015 * 32768) i++;
      onsets.push(start + preSkip + i);
    }
    quiet = loud ? 0 : quiet + 1;
    longestQuiet = Math.max(longestQuiet, quiet);
  });
  const profile = `${(s.length / RATE).toFixed(1)} s decoded from ${audio.length} pages, floor ${floor.toExponential(1)}, threshold ${thr.toExponential(1)}, ` +
    `${rms.filter((r) => r > thr).length}/${rms.length} windows above, longest quiet ${longestQuiet * 10} ms, max ${Math.max(...rms).toFixed(3)}`;
  return { onsets, profile };
}

/** Every page of live stream items the fleet's clusters hear, by cluster: its end granule and when it began, in true time. */
function listen(fleet: SimFleet) {
  const heard = new Map<string, { itemId: string; granule: number; trueMs: number }[]>();
  for (const c of fleet.clusters) {
    const pages: { itemId: string; granule: number; trueMs: number }[] = [];
    heard.set(c.id, pages);
    c.on('streamPage', (p) => pages.push({ itemId: p.itemId, granule: p.granule, trueMs: p.trueMs }));
  }
  return {
    /** The true instant cluster `id` played granule `g` of the broadcast's stream, or null if it did not. */
    at(id: string, broadcastId: string, g: number): number | null {
      const c = fleet.get(id)!;
      const pages = heard.get(id)!.filter((p) => c.playbackRecord(p.itemId)?.broadcastId === broadcastId);
      for (let i = 1; i < pages.length; i++) {
        const [a, b] = [pages[i - 1]!, pages[i]!];
        if (a.granule <= g && g < b.granule && b.granule - a.granule < 4 * 1920) return b.trueMs + ((g - a.granule) * 1000) / RATE;
      }
      return null;
    },
  };
}

/**
 * Holds "Giữ để nói" with the pointer for 2.5 s: before, the meter reads nothing (the track is muted); held, it
 * follows the signal — the bed, and the 2 kHz burst some 10 dB above it; let go, it falls to nothing again.
 * Returns the instant the button was pressed (just before the input event went to the page).
 */
async function holdToTalk(page: Page): Promise<number> {
  const talk = page.getByTestId('talk');
  expect(await talk.getAttribute('aria-pressed')).toBe('false');
  expect(Math.max(...(await meterReadings(page, 500)))).toBe(0);
  const box = (await talk.boundingBox())!;
  expect(box.height).toBeGreaterThanOrEqual(44);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const pressed = Date.now();
  await page.mouse.down();
  expect(await talk.getAttribute('aria-pressed')).toBe('true');
  const held = await meterReadings(page, 2500);
  await shot(page, 'live-360-on-air');
  await page.mouse.up();
  expect(await talk.getAttribute('aria-pressed')).toBe('false');
  const on = held.filter((v) => v > 0);
  expect(on.length).toBeGreaterThan(held.length / 2);
  expect(Math.max(...on) - Math.min(...on)).toBeGreaterThan(8);
  await page.waitForFunction(() => document.querySelector('[data-testid=live-level]')?.getAttribute('aria-valuenow') === '0');
  return pressed;
}

/**
 * The live session answered by the test, and its socket played by it: a status frame every 300 ms ('live' with
 * 17/18 once audio came), or from `frames` when given (one a tick, the last repeated).
 */
async function mockSession(page: Page, ctx: BrowserContext, frames?: object[]) {
  const session = { id: 'ls-test', broadcastId: 'bc-test', streamId: 'mic-ls-test', state: 'waiting', level: 'emergency', title: 'Phát trực tiếp', createdBy: OP.username, startedAt: new Date().toISOString(), endedAt: null, endReason: null, audioPath: '/api/live/sessions/ls-test/audio', onAir: 0, targeted: 18 };
  await ctx.route('**/api/live/sessions', (r) => r.fulfill({ status: 201, json: session }));
  let ended = 0;
  await ctx.route('**/api/live/sessions/ls-test/end', (r) => (ended++, r.fulfill({ json: { ...session, state: 'ended', endReason: 'ended' } })));
  await ctx.route('**/api/live/sessions/ls-test', (r) => r.fulfill({ json: session }));
  const sockets: { bytes: number; first: Buffer | null; close: () => Promise<void> }[] = [];
  await page.routeWebSocket('**/api/live/sessions/ls-test/audio', (ws) => {
    const s = { bytes: 0, first: null as Buffer | null, close: () => ws.close({ code: 1011 }) };
    sockets.push(s);
    ws.onMessage((m) => {
      if (typeof m === 'string') return;
      // the stream's first bytes, however the recorder sliced them (under load its first chunk can be 1 byte)
      if (!s.first || s.first.length < 4) s.first = Buffer.concat([s.first ?? Buffer.alloc(0), m]);
      s.bytes += m.length;
    });
    let tick = 0;
    const next = () => (frames ? frames[Math.min(tick++, frames.length - 1)] : { type: 'status', state: s.bytes ? 'live' : 'waiting', onAir: s.bytes ? 17 : 0, targeted: 18 });
    const timer = setInterval(() => ws.send(JSON.stringify(next())), 300);
    ws.onClose(() => clearInterval(timer));
  });
  return { sockets, ended: () => ended };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;

/** The meter's readings (aria-valuenow) over `ms`, every 50 ms. */
async function meterReadings(page: Page, ms: number): Promise<number[]> {
  return page.evaluate(async (ms) => {
    const out: number[] = [];
    const el = document.querySelector('[data-testid=live-level]')!;
    for (const end = performance.now() + ms; performance.now() < end; await new Promise((r) => setTimeout(r, 50))) out.push(Number(el.getAttribute('aria-valuenow')));
    return out;
  }, ms);
}

/**
 * Phát trực tiếp (issue 12), in Debian's Chromium at 360 × 740 with its fake microphone: an operator of a commune
 * that approves bulletins is refused a normal-level live broadcast with the reason in words, goes live at emergency
 * level to the commune, holds "Giữ để nói" (pointer and space bar) and sees ĐANG PHÁT, the clusters playing and a
 * level meter that moves only while held, then ends it. What the simulated clusters heard is measured against the
 * moments the button was pressed: glass to speaker.
 */
describe.skipIf(!hasChromium)('console: going live from the microphone', () => {
  let con: DemoConsole;
  let srv: TestServer;
  let browser: Browser;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'loa-e2e-live-'));
    con = await startDemoConsole([{ ...OP, role: 'operator', areaIds: ['dong-thanh'] }], { fakeMicrophone: await markerWav(join(tmp, 'marker.wav')) });
    ({ srv, browser } = con);
  }, 120_000);
  afterAll(async () => {
    await con?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses a normal level with the reason, goes live at emergency level, meters only while held, shows ĐANG PHÁT and the clusters, and ends', async () => {
    const heard = listen(con.demo.fleet);
    const { page, external } = await newPage(browser, srv.httpUrl, PHONE);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Phát trực tiếp');
    await page.getByRole('heading', { name: 'Phát trực tiếp' }).waitFor();
    expect(await page.title()).toContain('Phát trực tiếp');

    // The commune is chosen already; Đồng Thạnh approves every normal bulletin first, so an operator cannot go live
    // at that level, and is told why in words rather than a bare "no".
    expect(await page.getByRole('checkbox', { name: 'Đồng Thạnh' }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: 'Thường' }).check();
    await page.getByTestId('live-start').click();
    const refusal = page.getByTestId('live-error');
    await refusal.waitFor();
    expect(await refusal.innerText()).toContain('phải được lãnh đạo duyệt trước');
    expect((await srv.api('GET', '/api/broadcasts?state=airing')).body).toEqual([]);

    // Khẩn cấp is marked as such, and the start button says so.
    await page.getByRole('radio', { name: /Khẩn cấp/ }).check();
    await page.getByTestId('emergency-hint').waitFor();
    expect(await page.getByTestId('live-start').innerText()).toContain('Bắt đầu phát khẩn cấp');
    await shot(page, 'live-360-setup');
    await page.getByTestId('live-start').click();

    // ĐANG PHÁT once the server has the first audio, with the clusters playing out of those targeted.
    const state = page.getByTestId('live-state');
    await page.waitForFunction(() => document.querySelector('[data-testid=live-state]')?.textContent?.includes('ĐANG PHÁT') || document.querySelector('[data-testid=live-ended]'), null, { timeout: 20_000 });
    if (await page.getByTestId('live-ended').isVisible()) {
      const bs = (await srv.api('GET', '/api/broadcasts?limit=10')).body.filter((b: { live: { kind: string } | null }) => b.live?.kind === 'microphone');
      throw new Error(`the live session ended at once: ${JSON.stringify(bs[0]?.delivery)}`);
    }
    const count = page.getByTestId('on-air-count');
    expect(await count.innerText()).toMatch(/^\d+\/18 cụm đang phát$/);
    const session = ((await srv.api('GET', '/api/broadcasts?limit=10')).body as { id: string; state: string; level: string; live: { kind: string } | null }[]).filter((b) => b.live?.kind === 'microphone');
    expect(session.length).toBe(1);
    expect(['scheduled', 'airing']).toContain(session[0].state);
    expect(session[0].level).toBe('emergency');
    expect(session[0].live?.kind).toBe('microphone');
    // The clusters join the stream; the count follows the server's status frames.
    await page.waitForFunction(() => /^1[0-8]\/18/.test(document.querySelector('[data-testid=on-air-count]')?.textContent ?? ''), null, { timeout: 20_000 });

    // Push-to-talk: released, the track is muted and the meter reads nothing; held, it moves with the signal.
    const talk = page.getByTestId('talk');
    const pressed = [await holdToTalk(page)];
    await page.waitForTimeout(1000); // silence on air between the presses, so each press is found again in the audio

    // The space bar holds it too (a desk microphone).
    await page.locator('main').focus();
    pressed.push(Date.now());
    await page.keyboard.down('Space');
    expect(await talk.getAttribute('aria-pressed')).toBe('true');
    const spaced = await meterReadings(page, 2200);
    await page.keyboard.up('Space');
    expect(await talk.getAttribute('aria-pressed')).toBe('false');
    expect(Math.max(...spaced)).toBeGreaterThan(40);
    expect(await page.getByRole('meter', { name: 'Mức âm micrô' }).count()).toBe(1);
    expect(await page.getByTestId('live-elapsed').innerText()).toMatch(/^\d+:\d\d$/);
    expect(await state.innerText()).toContain('ĐANG PHÁT');

    // Kết thúc: the session and its broadcast end, the microphone is let go.
    await page.getByTestId('live-end').click();
    await page.getByTestId('live-ended').waitFor();
    expect(await page.getByTestId('live-ended').innerText()).toContain('Đã kết thúc buổi phát');
    await waitFor(async () => !['scheduled', 'airing'].includes((await srv.api('GET', `/api/broadcasts/${session[0].id}`)).body.state), 10_000, 200);
    await page.getByRole('link', { name: 'Xem chi tiết lượt phát' }).click();
    await page.getByTestId('broadcast-live').waitFor();
    expect(await page.getByTestId('live-input').innerText()).toBeTruthy();
    await shot(page, 'live-360-detail');
    expect(pageErrors).toEqual([]);
    expect(external).toEqual([]);

    // Glass to speaker: each press is where audio begins in the recording of what aired, and each cluster played
    // that sample at a true instant its device clock gives (not when a timer fired), so the figure holds on a loaded
    // machine. The press is taken just before the input event is sent, which makes the figure an upper bound.
    const rec = await waitFor(async () => (await srv.api('GET', `/api/broadcasts/${session[0].id}`)).body.live?.recordingId, 20_000, 200);
    const res = await fetch(`${srv.httpUrl}/api/content/${rec}/audio`, { headers: { authorization: `Bearer ${srv.token}` } });
    expect(res.status).toBe(200);
    const { onsets, profile } = await talkOnsets(Buffer.from(await res.arrayBuffer()));
    expect(onsets.length, `talk onsets in the recording (${profile})`).toBe(2);
    const ids = con.demo.fleet.clusters.filter((c) => heard.at(c.id, session[0].id, onsets[0]!) !== null).map((c) => c.id);
    expect(ids.length).toBeGreaterThanOrEqual(10); // of the commune's 18; the others may still be joining
    const glass: number[] = [];
    const spread: number[] = [];
    onsets.forEach((g, i) => {
      const at = ids.map((id) => heard.at(id, session[0].id, g)).filter((t): t is number => t !== null);
      glass.push(...at.map((t) => t - pressed[i]!));
      spread.push(Math.max(...at) - Math.min(...at));
    });
    console.info(`live-mic glass to speaker over ${ids.length} clusters × 2 presses: p50 ${pct(glass, 0.5).toFixed(0)} ms, p99 ${pct(glass, 0.99).toFixed(0)} ms; between clusters ${spread.map((x) => x.toFixed(1)).join(', ')} ms`);
    const fleet = con.demo.fleet.stats();
    console.info(`live-mic fleet: ${fleet.streamConnects} stream connections, ${fleet.streamErrors} errors, ${fleet.airingsUnderrun} underruns`);
    expect(fleet.streamConnects).toBeGreaterThanOrEqual(ids.length);
    expect(Math.min(...glass)).toBeGreaterThan(0);
    expect(pct(glass, 0.99)).toBeLessThanOrEqual(2000);
    // The ≤ 20 ms target between clusters is held in firmware-sim/test/stream-player.test.ts and the benchmark; here
    // 34 simulated clusters share two cores with the server, Chromium and other test files, and their time sync
    // suffers for it (22 ms seen), so this bound only catches clusters that do not play by the stamps at all.
    expect(Math.max(...spread)).toBeLessThanOrEqual(50);
  }, 120_000);

  /**
   * The page's own handling of the socket, on cue: the session answered and the socket played by the test (the
   * server cannot be made to drop a connection when asked). Push-to-talk mutes the track between presses, the meter
   * reads only while held, a dropped socket is said and reconnected with a new container header, and "Kết thúc" ends.
   */
  it('holds to talk, meters, survives a dropped socket with a new recorder, and ends (socket played by the test)', async () => {
    const { page, ctx } = await newPage(browser, srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    const { sockets, ended } = await mockSession(page, ctx);
    await page.goto('/live');
    await page.getByRole('radio', { name: /Khẩn cấp/ }).check();
    await page.getByTestId('live-start').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=live-state]')?.textContent?.includes('ĐANG PHÁT'), null, { timeout: 10_000 });
    await page.getByText('17/18 cụm đang phát').waitFor();
    // WebM's EBML magic opens the stream of each connection.
    await waitFor(async () => (sockets[0].first?.length ?? 0) >= 4, 5000, 100);
    expect(sockets[0].first!.subarray(0, 4).toString('hex')).toBe('1a45dfa3');

    const talk = page.getByTestId('talk');
    await holdToTalk(page);
    await page.locator('main').focus();
    await page.keyboard.down('Space');
    expect(await talk.getAttribute('aria-pressed')).toBe('true');
    expect(Math.max(...(await meterReadings(page, 2200)))).toBeGreaterThan(40);
    await page.keyboard.up('Space');
    expect(await talk.getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByTestId('live-elapsed').innerText()).toMatch(/^\d+:\d\d$/);

    // The link drops: said at once, reconnected by itself, with a new recorder (a new header) on the new socket.
    await sockets[0].close();
    await page.getByTestId('live-dropped').waitFor();
    await shot(page, 'live-360-dropped');
    await page.waitForFunction(() => !document.querySelector('[data-testid=live-dropped]'), null, { timeout: 10_000 });
    expect(sockets.length).toBe(2);
    await waitFor(async () => (sockets[1].first?.length ?? 0) >= 4, 5000, 100);
    expect(sockets[1].first!.subarray(0, 4).toString('hex')).toBe('1a45dfa3');

    await page.getByTestId('live-end').click();
    await page.getByTestId('live-ended').waitFor();
    expect(ended()).toBe(1);
    await ctx.close();
  }, 60_000);

  it('says why the server ended the session (the time limit), in words', async () => {
    const { page, ctx } = await newPage(browser, srv.httpUrl, PHONE);
    await signIn(page, OP.username, OP.password);
    const live = { type: 'status', state: 'live', onAir: 18, targeted: 18 };
    await mockSession(page, ctx, [live, live, live, { type: 'status', state: 'ended', onAir: 0, targeted: 18, endReason: 'time_limit' }]);
    await page.goto('/live');
    await page.getByRole('radio', { name: /Khẩn cấp/ }).check();
    await page.getByTestId('live-start').click();
    await page.getByTestId('live-ended').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('live-ended').innerText()).toContain('Buổi phát đã kết thúc trên máy chủ');
    expect(await page.getByTestId('live-end-reason').innerText()).toContain('Đã hết thời lượng tối đa của một buổi phát trực tiếp.');
    await shot(page, 'live-360-time-limit');
    await ctx.close();
  }, 60_000);
});
