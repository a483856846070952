import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, waitFor, type TestServer } from '../helpers/server.ts';
import { openPlace, hasChromium, launch, newPage, shot, signIn, PHONE } from './browser.ts';
import { ensureBuilt } from './build.ts';

const OP = { username: 'vanhanh', password: 'mat-khau-van-hanh-1' };

/**
 * Cách đọc (issue 9 §1): an operator corrects how a hamlet's name is read, and the composer shows, as they type,
 * the text as it will be spoken — with that correction and the built-in rules (lunar date, time).
 */
describe.skipIf(!hasChromium)('console: readings of the commune', () => {
  let srv: TestServer;
  let b: Awaited<ReturnType<typeof launch>>;
  beforeAll(async () => {
    ensureBuilt();
    srv = await startServer();
    for (const a of [
      { id: 'tinh', name: 'Tỉnh Thử', kind: 'province' },
      { id: 'xa-my', name: 'Xã Mỹ Phước', kind: 'commune', parentId: 'tinh' },
      { id: 'ap-my-1', name: 'Ấp Mỹ I', kind: 'hamlet', parentId: 'xa-my' },
    ]) expect((await srv.api('POST', '/api/areas', a)).status).toBe(201);
    expect((await srv.api('POST', '/api/users', { ...OP, role: 'operator', areaIds: ['xa-my'] })).status).toBe(201);
    b = await launch();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await srv?.close();
  });

  it('adds, edits and deletes a reading at 360 px, and the composer shows what will be spoken as the operator types', async () => {
    const { page, ctx, external } = await newPage(b.browser, srv.httpUrl, PHONE);
    page.on('dialog', (d) => void d.accept());
    await signIn(page, OP.username, OP.password);
    await openPlace(page, 'Cách đọc');
    await page.getByRole('heading', { name: 'Cách đọc' }).waitFor();
    await page.getByText('Xã chưa có cách đọc riêng nào.').waitFor();

    // A reading made of digits is refused next to its field, in Vietnamese; what was typed stays.
    await page.getByLabel('Chữ viết').fill('Mỹ I');
    await page.getByLabel('Đọc là').fill('1');
    await page.getByRole('button', { name: 'Thêm cách đọc' }).click();
    await page.getByText('Cách đọc cần có ít nhất một chữ cái (viết số thành chữ).').waitFor();
    expect(await page.getByLabel('Chữ viết').inputValue()).toBe('Mỹ I');
    await page.getByLabel('Đọc là').fill('Mỹ Một');
    await page.getByRole('button', { name: 'Thêm cách đọc' }).click();
    await page.getByTestId('reading').filter({ hasText: 'Mỹ I → Mỹ Một' }).waitFor();
    await shot(page, 'pronunciations-360');
    const stored = (await srv.api('GET', '/api/tts/pronunciations?communeId=xa-my')).body;
    expect(stored).toMatchObject([{ written: 'Mỹ I', spoken: 'Mỹ Một', createdBy: OP.username }]);

    await openPlace(page, 'Soạn bản tin');
    await page.getByLabel('Nội dung (máy sẽ đọc thành tiếng)').fill('Bà con ấp Mỹ I họp lúc 8h ngày 15/1 âm lịch.');
    await page.getByTestId('tts-normalised').filter({ hasText: 'Bà con ấp Mỹ Một họp lúc tám giờ ngày rằm tháng Giêng.' }).waitFor();
    await shot(page, 'compose-spoken-360');

    await openPlace(page, 'Cách đọc');
    await page.getByRole('button', { name: 'Sửa' }).click();
    await page.getByTestId('reading-edit').getByLabel('Đọc là').fill('Mỹ Nhứt');
    await page.getByRole('button', { name: 'Lưu' }).click();
    await page.getByTestId('reading').filter({ hasText: 'Mỹ I → Mỹ Nhứt' }).waitFor();
    await page.getByRole('button', { name: 'Xóa' }).click();
    await page.getByText('Xã chưa có cách đọc riêng nào.').waitFor();
    await waitFor(async () => (await srv.api('GET', '/api/tts/pronunciations?communeId=xa-my')).body.length === 0);
    const actions = (await srv.api('GET', `/api/audit?targetId=${stored[0].id}`)).body.map((e: any) => e.action).sort();
    expect(actions).toEqual(['pronunciation.create', 'pronunciation.delete', 'pronunciation.update']);
    expect(external).toEqual([]);
    await ctx.close();
  }, 90_000);
});
