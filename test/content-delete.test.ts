import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { uploadTone } from './helpers/broadcast.ts';
import { provision, startServer, type TestServer } from './helpers/server.ts';

/** DELETE /api/content/:id through the whole app (issue 9 §1): the refusal while a broadcast uses the item, and the audit. */
let srv: TestServer;
let cluster: string;
beforeAll(async () => {
  srv = await startServer();
  [{ id: cluster }] = await provision(srv, 1);
}, 30_000);
afterAll(() => srv?.close());

describe('DELETE /api/content/:id', () => {
  it('answers 409 naming every broadcast not yet over that airs the item, then 204 once they are cancelled', async () => {
    const contentId = await uploadTone(srv, 2, 523);
    const { sha256 } = (await srv.api('GET', `/api/content/${contentId}`)).body;
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const titles = ['Lịch tiêm chủng tháng 12', 'Nhắc lại lịch tiêm chủng'];
    const ids: string[] = [];
    for (const title of titles) {
      const b = await srv.api('POST', '/api/broadcasts', { title, level: 'normal', source: { contentId }, targets: { clusterIds: [cluster] }, startAt });
      expect(b.status).toBe(201);
      ids.push(b.body.id);
    }

    const refused = await srv.api('DELETE', `/api/content/${contentId}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ statusCode: 409, error: 'Conflict', field: 'params/id' });
    expect(refused.body.details).toEqual(expect.arrayContaining(ids.map((id, i) => ({ broadcastId: id, title: titles[i], state: 'scheduled' }))));
    for (const t of titles) expect(refused.body.message).toContain(t);
    expect((await srv.api('GET', `/api/content/${contentId}`)).body.state).toBe('ready');

    expect((await srv.api('POST', `/api/broadcasts/${ids[0]}/cancel`)).status).toBe(200);
    const still = await srv.api('DELETE', `/api/content/${contentId}`);
    expect(still.status).toBe(409);
    expect(still.body.details).toEqual([{ broadcastId: ids[1], title: titles[1], state: 'scheduled' }]);

    expect((await srv.api('POST', `/api/broadcasts/${ids[1]}/cancel`)).status).toBe(200);
    const del = await srv.api('DELETE', `/api/content/${contentId}`);
    expect(del.status).toBe(204);
    expect((await srv.api('GET', `/api/content/${contentId}`)).status).toBe(404);
    expect(existsSync(join(srv.dataDir, 'content', sha256))).toBe(false);

    const audit = await srv.api('GET', `/api/audit?action=content.delete&targetId=${contentId}`);
    expect(audit.body).toMatchObject([{ actorName: 'admin', targetType: 'content', targetId: contentId, details: { sha256, fileRemoved: true } }]);
    // A broadcast can no longer be made from it.
    const late = await srv.api('POST', '/api/broadcasts', { title: 'Muộn', level: 'normal', source: { contentId }, targets: { clusterIds: [cluster] } });
    expect(late.status).toBe(404);
    expect(late.body.field).toBe('body/contentId');
  }, 60_000);
});
