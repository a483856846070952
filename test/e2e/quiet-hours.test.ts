import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, provision, startServer, type TestServer } from '../helpers/server.ts';
import { hasChromium, launch, newPage, shot, signIn, PHONE } from './browser.ts';
import { ensureBuilt } from './build.ts';

/** A "Gửi phát" refused for the commune's quiet hours offers, by the button, the first time it may air. */
describe.skipIf(!hasChromium)('composer and quiet hours', () => {
  let srv: TestServer;
  let b: Awaited<ReturnType<typeof launch>>;
  beforeAll(async () => {
    ensureBuilt();
    srv = await startServer();
    expect((await srv.api('POST', '/api/areas', { id: 'test-province', name: 'Tỉnh Thử', kind: 'province' })).status).toBe(201);
    const commune = { id: 'xa-hoa-binh', name: 'Xã Hòa Bình', kind: 'commune', parentId: 'test-province', policy: { quietHours: '21:00-05:00' } };
    expect((await srv.api('POST', '/api/areas', commune)).status).toBe(201);
    await provision(srv, 1, 'xa-hoa-binh');
    b = await launch();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await srv?.close();
  });

  it('explains the refusal and moves the start to the first allowed time on request', async () => {
    const { page, ctx, external } = await newPage(b.browser, srv.httpUrl, PHONE);
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto('/compose');
    await page.getByLabel('Tiêu đề').fill('Họp tổ dân phố');
    await page.getByRole('radio', { name: 'Văn bản' }).check();
    await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').fill('Mời bà con dự họp tổ dân phố.');
    await page.getByLabel('Xã Hòa Bình').check();
    await page.getByLabel('Ngày phát').fill('25/11/2030');
    await page.getByLabel('Giờ phát').fill('22:00');
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    expect(await page.getByTestId('submit-error').innerText()).toBe('Giờ này nằm trong giờ không phát (21:00–05:00); chỉ tin khẩn cấp được phát.');
    const move = page.getByRole('button', { name: 'Dời đến 05:00 ngày 26/11/2030' });
    await move.waitFor();
    expect((await srv.api('GET', '/api/broadcasts')).body).toEqual([]);
    await shot(page, 'compose-quiet-hours-360');
    // Changing the start makes the offer stale.
    await page.getByLabel('Giờ phát').fill('22:30');
    await move.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Gửi phát' }).click();
    await page.getByRole('button', { name: 'Dời đến 05:00 ngày 26/11/2030' }).click();
    await page.waitForURL(/\/broadcasts\/[^/]+$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect((await srv.api('GET', `/api/broadcasts/${id}`)).body.startAt).toBe(new Date('2030-11-26T05:00:00+07:00').toISOString());
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);
});
