import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startServer, type TestServer } from './helpers/server.ts';

/**
 * A commune's own readings (issue 9 §1): an operator corrects how a hamlet's name or a local word is read, the
 * correction applies before the built-in rules in the dry run, the preview and broadcasts, and a changed entry is
 * synthesised again. Real server on a SQLite file, real espeak-ng and ffmpeg.
 */
let srv: TestServer;
const PW = 'a long enough password';
const tokens: Record<string, string> = {};
let operatorA = '';

beforeAll(async () => {
  srv = await startServer({}, { listenHttp: false });
  for (const a of [
    { id: 'prov', name: 'Tỉnh Thử', kind: 'province' },
    { id: 'xa-a', name: 'Xã A', kind: 'commune', parentId: 'prov' },
    { id: 'ap-a1', name: 'Ấp Mỹ I', kind: 'hamlet', parentId: 'xa-a' },
    { id: 'xa-b', name: 'Xã B', kind: 'commune', parentId: 'prov' },
  ]) expect((await srv.api('POST', '/api/areas', a)).status).toBe(201);
  for (const [username, role, areaIds] of [
    ['op-a', 'operator', ['xa-a']],
    ['op-b', 'operator', ['xa-b']],
    ['appr-a', 'approver', ['xa-a']],
    ['tech-a', 'technician', ['xa-a']],
  ] as const) {
    const u = await srv.api('POST', '/api/users', { username, password: PW, role, areaIds });
    expect(u.status, JSON.stringify(u.body)).toBe(201);
    if (username === 'op-a') operatorA = u.body.id;
    tokens[username] = (await srv.api('POST', '/api/auth/login', { username, password: PW }, '')).body.token;
  }
});
afterAll(() => srv?.close());

const as = (user: string) => (method: string, url: string, body?: unknown) => srv.api(method, url, body, tokens[user]);

describe('pronunciation list', () => {
  it("lets the commune's operator add, list, edit and delete readings, each change in the audit log", async () => {
    const op = as('op-a');
    const created = await op('POST', '/api/tts/pronunciations', { communeId: 'xa-a', written: ' Kơ  Nia ', spoken: 'Cơ Nia' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ communeId: 'xa-a', written: 'Kơ Nia', spoken: 'Cơ Nia', createdBy: 'op-a' });
    const id = created.body.id;
    expect((await as('appr-a')('GET', '/api/tts/pronunciations?communeId=xa-a')).body).toEqual([created.body]);

    const edited = await op('PATCH', `/api/tts/pronunciations/${id}`, { spoken: 'Cơ-nia' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id, written: 'Kơ Nia', spoken: 'Cơ-nia' });
    expect((await op('DELETE', `/api/tts/pronunciations/${id}`)).status).toBe(204);
    expect((await op('GET', '/api/tts/pronunciations?communeId=xa-a')).body).toEqual([]);
    expect((await op('DELETE', `/api/tts/pronunciations/${id}`)).status).toBe(404);

    const log = (await srv.api('GET', `/api/audit?targetId=${id}`)).body;
    expect(log.map((e: any) => [e.action, e.actorId])).toEqual(
      expect.arrayContaining([['pronunciation.create', operatorA], ['pronunciation.update', operatorA], ['pronunciation.delete', operatorA]]),
    );
    expect(log.find((e: any) => e.action === 'pronunciation.update').details).toEqual({
      communeId: 'xa-a',
      before: { written: 'Kơ Nia', spoken: 'Cơ Nia' },
      after: { written: 'Kơ Nia', spoken: 'Cơ-nia' },
    });
  });

  it('refuses bad entries with a 4xx naming the field, and writes nothing', async () => {
    const op = as('op-a');
    const post = (body: unknown) => op('POST', '/api/tts/pronunciations', body);
    const cases: [unknown, number, string][] = [
      [{ communeId: 'xa-a', written: '  ', spoken: 'x' }, 400, 'body/written'],
      [{ communeId: 'xa-a', written: '...', spoken: 'chấm' }, 400, 'body/written'],
      [{ communeId: 'xa-a', written: 'ST25', spoken: '25' }, 400, 'body/spoken'],
      [{ communeId: 'xa-a', written: 'ST25' }, 400, 'body/spoken'],
      [{ communeId: 'xa-a', written: 'x'.repeat(101), spoken: 'x' }, 400, 'body/written'],
      [{ communeId: 'xa-a', written: 'ST25', spoken: 'ét tê', extra: 1 }, 400, 'body'],
      [{ communeId: 'khong-co', written: 'ST25', spoken: 'ét tê' }, 404, 'body/communeId'],
      [{ communeId: 'xa-b', written: 'ST25', spoken: 'ét tê' }, 404, 'body/communeId'], // not in op-a's scope
      [{ written: 'ST25', spoken: 'ét tê' }, 400, 'body/communeId'],
    ];
    for (const [body, status, field] of cases) {
      const r = await post(body);
      expect([r.status, r.body.field], JSON.stringify(body)).toEqual([status, field]);
    }
    const province = await srv.api('POST', '/api/tts/pronunciations', { communeId: 'prov', written: 'ST25', spoken: 'ét tê' });
    expect(province.body).toMatchObject({ statusCode: 400, field: 'body/communeId' });
    expect((await srv.api('GET', '/api/tts/pronunciations?communeId=xa-a')).body).toEqual([]);

    const first = await post({ communeId: 'xa-a', written: 'ST25', spoken: 'ét tê hai lăm' });
    expect(first.status).toBe(201);
    expect((await post({ communeId: 'xa-a', written: 'ST25', spoken: 'xê tê' })).body).toMatchObject({ statusCode: 409, field: 'body/written' });
    const other = await post({ communeId: 'xa-a', written: 'OM18', spoken: 'ô em mười tám' });
    const clash = await op('PATCH', `/api/tts/pronunciations/${other.body.id}`, { written: 'ST25' });
    expect(clash.body).toMatchObject({ statusCode: 409, field: 'body/written' });
    expect((await op('PATCH', `/api/tts/pronunciations/${other.body.id}`, { spoken: '' })).body).toMatchObject({ statusCode: 400, field: 'body/spoken' });
    const list = (await op('GET', '/api/tts/pronunciations?communeId=xa-a')).body;
    expect(list.map((e: any) => [e.written, e.spoken])).toEqual([['OM18', 'ô em mười tám'], ['ST25', 'ét tê hai lăm']]);
    for (const e of list) await op('DELETE', `/api/tts/pronunciations/${e.id}`);
  });

  it("keeps communes apart, and leaves editing to admins and operators", async () => {
    const entry = (await as('op-a')('POST', '/api/tts/pronunciations', { communeId: 'xa-a', written: 'Ea Súp', spoken: 'Ê Súp' })).body;
    const opB = as('op-b');
    expect((await opB('GET', '/api/tts/pronunciations?communeId=xa-a')).status).toBe(404);
    expect((await opB('PATCH', `/api/tts/pronunciations/${entry.id}`, { spoken: 'sai' })).body).toMatchObject({ statusCode: 404, field: 'params/id' });
    expect((await opB('DELETE', `/api/tts/pronunciations/${entry.id}`)).status).toBe(404);
    expect((await as('tech-a')('GET', '/api/tts/pronunciations?communeId=xa-a')).status).toBe(403);
    expect((await as('appr-a')('POST', '/api/tts/pronunciations', { communeId: 'xa-a', written: 'Ea H’Leo', spoken: 'Ê Lê-ô' })).status).toBe(403);
    expect((await srv.api('PATCH', `/api/tts/pronunciations/${entry.id}`, { spoken: 'Ê-súp' })).status).toBe(200); // admin, all areas
    expect((await as('op-a')('GET', '/api/tts/pronunciations?communeId=xa-a')).body).toMatchObject([{ written: 'Ea Súp', spoken: 'Ê-súp' }]);
    await srv.api('DELETE', `/api/tts/pronunciations/${entry.id}`);
  });

  it("applies the commune's readings before the built-in rules, and synthesises again when an entry changes", async () => {
    const opA = as('op-a');
    const text = 'Bà con ấp Mỹ I họp tại UBND xã lúc 8h.';
    const entry = (await opA('POST', '/api/tts/pronunciations', { communeId: 'xa-a', written: 'Mỹ I', spoken: 'Mỹ Một' })).body;
    const dry = (user: string, body: object) => as(user)('POST', '/api/tts/normalise', { text, ...body });

    // The operator's own commune applies without naming it; another commune, or no single commune, reads by the rules.
    expect((await dry('op-a', {})).body).toEqual({ normalisedText: 'Bà con ấp Mỹ Một họp tại Ủy ban nhân dân xã lúc tám giờ.', communeId: 'xa-a' });
    expect((await dry('op-b', {})).body).toEqual({ normalisedText: 'Bà con ấp Mỹ I họp tại Ủy ban nhân dân xã lúc tám giờ.', communeId: 'xa-b' });
    expect((await dry('admin', {})).body.communeId).toBeNull();
    expect((await srv.api('POST', '/api/tts/normalise', { text, communeId: 'ap-a1' })).body).toMatchObject({ communeId: 'xa-a', normalisedText: expect.stringContaining('Mỹ Một') });
    expect((await dry('op-b', { communeId: 'xa-a' })).body).toMatchObject({ statusCode: 404, field: 'body/communeId' });

    const first = await opA('POST', '/api/tts/preview', { text });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.normalisedText).toBe('Bà con ấp Mỹ Một họp tại Ủy ban nhân dân xã lúc tám giờ.');
    expect((await opA('POST', '/api/tts/preview', { text })).body.id).toBe(first.body.id);

    // A broadcast reads with the readings of the commune it airs in, whoever sends it (the admin sees every commune).
    // The areas exist: these only add a cluster to each.
    await provision(srv, 1, 'ap-a1');
    await provision(srv, 1, 'xa-b');
    const inCommune = (await srv.api('POST', '/api/tts/preview', { text, communeId: 'xa-a' })).body.id;
    const send = (areaIds: string[]) => srv.api('POST', '/api/broadcasts', { title: 'Họp ấp', level: 'normal', source: { tts: { text } }, targets: { areaIds }, startAt: new Date(Date.now() + 3_600_000).toISOString() });
    const hamlet = await send(['ap-a1']);
    expect(hamlet.status, JSON.stringify(hamlet.body)).toBe(201);
    expect(hamlet.body.contentId).toBe(inCommune);
    const province = await send(['prov']);
    expect(province.status, JSON.stringify(province.body)).toBe(201);
    expect(province.body.contentId).not.toBe(inCommune); // the province's clusters are in two communes: no one commune's list

    await opA('PATCH', `/api/tts/pronunciations/${entry.id}`, { spoken: 'Mỹ Nhất' });
    const changed = await opA('POST', '/api/tts/preview', { text });
    expect(changed.body.normalisedText).toContain('ấp Mỹ Nhất');
    expect(changed.body.id).not.toBe(first.body.id);

    await opA('DELETE', `/api/tts/pronunciations/${entry.id}`);
    const rules = await opA('POST', '/api/tts/preview', { text });
    expect(rules.body.normalisedText).toContain('ấp Mỹ I họp');
    expect(new Set([first.body.id, changed.body.id, rules.body.id]).size).toBe(3);
  });
});
