import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/server.ts';
import { join } from 'node:path';
import { hasChromium, newPage, shot, signIn, PHONE, SHOTS } from './browser.ts';
import { startDemoConsole, type DemoConsole } from './demo.ts';

const TECH = { username: 'kythuat', password: 'mat-khau-ky-thuat-1', displayName: 'Lê Văn Kỹ' };
const CLUSTER = 'bp-05';

/** "dd/MM/yyyy HH:mm" of an instant in station time, as the console writes it. */
const station = (iso: string) => {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
};

describe.skipIf(!hasChromium)('faults for technicians', () => {
  let d: DemoConsole;
  beforeAll(async () => {
    d = await startDemoConsole();
    expect((await d.srv.api('POST', '/api/users', { ...TECH, role: 'technician', areaIds: ['binh-phu'] })).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    const c = d?.demo.fleet.get(CLUSTER);
    c?.outputRestore(1);
    c?.mainsLoss(false);
    await d?.close();
  });

  it('shows since when, what it means and what to do, and takes an acknowledgement with a note at 360 px', async () => {
    const c = d.demo.fleet.get(CLUSTER)!;
    c.outputFault(1, 'open');
    c.mainsLoss(true);
    c.sendTelemetry();
    const alarms = await waitFor(async () => {
      const r = (await d.srv.api('GET', `/api/alarms?clusterId=${CLUSTER}&active=true`)).body as any[];
      return r.some((a) => a.type === 'output-1-open') && r.some((a) => a.type === 'mains-lost') ? r : null;
    }, 30_000, 250);
    const open = alarms.find((a) => a.type === 'output-1-open');

    const { page, ctx, external } = await newPage(d.browser, d.srv.httpUrl, PHONE);
    await signIn(page, TECH.username, TECH.password);
    await page.goto('/clusters/' + CLUSTER);
    const card = page.locator(`[data-testid=alarm][data-type="output-1-open"]`);
    await card.waitFor();
    await expect.poll(() => card.locator('h3').innerText()).toContain('Loa hướng Nam: hở mạch (đứt dây loa)');
    expect(await card.getByTestId('since').innerText()).toContain(`Từ ${station(open.raisedAt)}`);
    expect(await card.getByTestId('meaning').innerText()).toMatch(/^Hở mạch: dây loa bị đứt/);
    expect(await card.getByTestId('advice').innerText()).toContain('Kiểm tra dây loa và đầu nối ở loa');
    const mains = page.locator(`[data-testid=alarm][data-type="mains-lost"]`);
    expect(await mains.getByTestId('advice').innerText()).toContain('Kiểm tra cầu dao/aptomat điện lưới');
    expect(await mains.getByTestId('meaning').innerText()).toContain('ắc quy dự phòng');
    // Numbers in Vietnamese style, and the link type as people write it.
    const tel = await page.getByTestId('telemetry').innerText();
    expect(tel).toMatch(/\d+,\d V \(\d+,\d %\)/);
    expect(tel).toContain('4G');
    expect(tel).not.toMatch(/\(4g\)|\d\.\d/);

    // Acknowledge with a note; the controls are big enough for a thumb.
    const note = card.getByLabel('Ghi chú (không bắt buộc)');
    const button = card.getByRole('button', { name: 'Xác nhận đã biết' });
    for (const el of [note, button]) expect((await el.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    await note.fill('Đã gọi anh Tư, chiều nay lên nối lại dây');
    await button.click();
    const acked = card.getByTestId('acked');
    await acked.waitFor();
    expect(await acked.innerText()).toMatch(/^Đã xác nhận: Lê Văn Kỹ, lúc \d\d\/\d\d\/\d{4} \d\d:\d\d/);
    expect(await acked.innerText()).toContain('Đã gọi anh Tư, chiều nay lên nối lại dây');
    const stored = (await d.srv.api('GET', `/api/alarms/${open.id}`)).body;
    expect(stored).toMatchObject({ ackedByName: 'Lê Văn Kỹ', ackNote: 'Đã gọi anh Tư, chiều nay lên nối lại dây', active: true });
    // The other fault still waits for someone.
    await mains.getByRole('button', { name: 'Xác nhận đã biết' }).waitFor();
    await shot(page, 'fault-advice');
    await page.getByTestId('alarms').screenshot({ path: join(SHOTS, 'fault-advice-cards-360.png') });
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('draws each quantity on a fixed range with its limits, and redraws at a new width', async () => {
    const { page, ctx } = await newPage(d.browser, d.srv.httpUrl, PHONE);
    await signIn(page, TECH.username, TECH.password);
    await page.goto('/clusters/' + CLUSTER);
    const boxes = page.locator('.charts[data-range="24h"] .chart');
    await page.locator('.charts .uplot').nth(3).waitFor();
    const attr = (name: string) => boxes.evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);
    // Mains 0–260 V with the under/over-voltage lines; 12 V lead-acid 10–15 V with its low line; amplifier 0–100 °C
    // with the overheat line; signal −120…−40 dBm.
    expect(await attr('data-range')).toEqual(['0,260', '10,15', '0,100', '-120,-40']);
    expect(await attr('data-limits')).toEqual(['180,250', '11.8', '75', '']);
    const yticks = (await attr('data-yticks')).map((s) => s!.split(' '));
    expect(yticks[0][0]).toBe('0');
    for (const ticks of yticks) for (const x of ticks) expect(x).toMatch(/^-?\d+(,\d+)?$/);
    await page.getByTestId('charts').screenshot({ path: join(SHOTS, 'fault-charts-360.png') });
    const widths = async () => (await attr('data-width')).map(Number);
    const narrow = await widths();
    expect(narrow[0]).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 900, height: 900 });
    await expect.poll(async () => (await widths()).every((w) => w > narrow[0] + 200), { timeout: 10_000 }).toBe(true);
    await page.getByTestId('charts').screenshot({ path: join(SHOTS, 'fault-charts-900.png') });
    // Still the same ranges after the redraw.
    expect(await attr('data-range')).toEqual(['0,260', '10,15', '0,100', '-120,-40']);
    await ctx.close();
  }, 60_000);
});
