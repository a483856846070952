import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers/server.ts';

let srv: TestServer;
const count = async () => (await srv.api('GET', '/api/clusters')).body.total as number;

beforeAll(async () => {
  srv = await startServer({}, { listenHttp: false });
  await srv.api('POST', '/api/areas', { id: 'tinh', name: 'Tỉnh Tiền Giang', kind: 'province' });
  await srv.api('POST', '/api/areas', { id: 'xa-a', name: 'Xã Đồng Thạnh', kind: 'commune', parentId: 'tinh' });
  await srv.api('POST', '/api/areas', { id: 'ap-1', name: 'Ấp Thạnh Hòa', kind: 'hamlet', parentId: 'xa-a' });
});
afterAll(() => srv?.close());

const csv = (rows: string[]) => ['name,areaId,serial,model,lat,lon,outputs,outputLabels,ratedW', ...rows].join('\n');
const postCsv = (body: string) => srv.app.inject({ method: 'POST', url: '/api/clusters/import', payload: body, headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'text/csv' } });

describe('area tree', () => {
  it('has configurable depth and reports each level', async () => {
    const areas = (await srv.api('GET', '/api/areas')).body as any[];
    expect(areas.find((a) => a.id === 'ap-1')).toMatchObject({ name: 'Ấp Thạnh Hòa', parentId: 'xa-a', level: 2, kind: 'hamlet' });
    // A district tier can still be inserted for provinces that keep one.
    const d = await srv.api('POST', '/api/areas', { id: 'huyen-x', name: 'Huyện Gò Công Tây', kind: 'district', parentId: 'tinh' });
    expect(d.status).toBe(201);
    const x = await srv.api('POST', '/api/areas', { id: 'xa-under-d', name: 'Xã Bình Phú', kind: 'commune', parentId: 'huyen-x' });
    expect(x.body.level).toBe(2);
  });
  it('refuses an unknown parent and names the field', async () => {
    const r = await srv.api('POST', '/api/areas', { name: 'Ấp mồ côi', kind: 'hamlet', parentId: 'khong-co' });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('body/parentId');
  });
  it('refuses moving an area beneath itself', async () => {
    const r = await srv.api('PATCH', '/api/areas/xa-a', { parentId: 'ap-1' });
    expect(r.status).toBe(400);
  });
});

describe('provisioning', () => {
  it('creates one cluster and shows its secret exactly once', async () => {
    const r = await srv.api('POST', '/api/clusters', { name: 'Cụm loa chợ', areaId: 'ap-1', serial: 'S-ONE', lat: 10.37, lon: 106.6, installedOn: '2025-08-15', outputs: [{ index: 0, label: 'Loa 1', ratedW: 50 }] });
    expect(r.status).toBe(201);
    expect(r.body.credential.secret.length).toBeGreaterThanOrEqual(22);
    expect(Buffer.from(r.body.credential.secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    const again = await srv.api('GET', `/api/clusters/${r.body.cluster.id}`);
    expect(again.body).not.toHaveProperty('credential.secret');
    expect(JSON.stringify(again.body)).not.toContain(r.body.credential.secret);
    expect(again.body.groups).toEqual(['a-tinh', 'a-xa-a', 'a-ap-1']);
  });

  it('rejects a missing field naming it', async () => {
    const r = await srv.api('POST', '/api/clusters', { areaId: 'ap-1', serial: 'S-X', outputs: [{ index: 0, label: 'L' }] });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('body/name');
  });

  it('rejects more than 8 outputs and a duplicate serial', async () => {
    const outputs = Array.from({ length: 9 }, (_, index) => ({ index: index % 8, label: `L${index}` }));
    expect((await srv.api('POST', '/api/clusters', { name: 'x', areaId: 'ap-1', serial: 'S-9', outputs })).status).toBe(400);
    const dup = await srv.api('POST', '/api/clusters', { name: 'x', areaId: 'ap-1', serial: 'S-ONE', outputs: [{ index: 0, label: 'L' }] });
    expect(dup.status).toBe(409);
    expect(dup.body.field).toBe('body/serial');
  });

  it('imports CSV in one go', async () => {
    const before = await count();
    const r = await postCsv(csv(['Cụm 1,ap-1,CSV-1,LX-400,10.37,106.60,4,,50', 'Cụm 2,ap-1,CSV-2,LX-400,10.38,106.61,,Bắc|Nam|Đông,30']));
    expect(r.statusCode).toBe(201);
    expect(r.json().created).toBe(2);
    expect(await count()).toBe(before + 2);
    const c2 = (await srv.api('GET', '/api/clusters?q=CSV-2')).body.items[0];
    expect(c2.outputs.map((o: any) => o.label)).toEqual(['Bắc', 'Nam', 'Đông']);
  });

  it('writes nothing when one CSV row is bad, and reports every bad row with its line', async () => {
    const before = await count();
    const r = await postCsv(csv(['Cụm 3,ap-1,CSV-3,,10.3,106.6,4,,', 'Cụm 4,ap-1,CSV-4,,95,106.6,4,,', 'Cụm 5,khong-co,CSV-5,,10.3,106.6,4,,', ',ap-1,CSV-6,,10.3,106.6,4,,']));
    expect(r.statusCode).toBe(422);
    const lines = r.json().details.map((d: any) => `${d.line}:${d.field}`);
    expect(lines).toEqual(['3:lat', '5:name']);
    expect(await count()).toBe(before);
    // Schema-valid rows with a semantic problem are caught before writing too.
    const r2 = await postCsv(csv(['Cụm 3,ap-1,CSV-3,,10.3,106.6,4,,', 'Cụm 5,khong-co,CSV-5,,10.3,106.6,4,,']));
    expect(r2.statusCode).toBe(422);
    expect(r2.json().details).toEqual([{ line: 3, field: 'areaId', message: 'area khong-co does not exist' }]);
    expect(await count()).toBe(before);
  });

  it('imports JSON and rejects duplicates inside one import', async () => {
    const before = await count();
    const row = (serial: string) => ({ name: 'J', areaId: 'ap-1', serial, outputs: [{ index: 0, label: 'L' }] });
    const bad = await srv.api('POST', '/api/clusters/import', [row('J-1'), row('J-2'), row('J-1')]);
    expect(bad.status).toBe(422);
    expect(bad.body.details[0]).toMatchObject({ line: 3, field: 'serial' });
    expect(await count()).toBe(before);
    const ok = await srv.api('POST', '/api/clusters/import', { clusters: [row('J-1'), row('J-2')] });
    expect(ok.status).toBe(201);
    expect(new Set(ok.body.credentials.map((c: any) => c.secret)).size).toBe(2);
  });

  it('filters clusters by area subtree and by search', async () => {
    const all = await srv.api('GET', '/api/clusters?areaId=xa-a');
    expect(all.body.total).toBeGreaterThan(3);
    expect((await srv.api('GET', '/api/clusters?areaId=huyen-x')).body.total).toBe(0);
    expect((await srv.api('GET', '/api/clusters?q=c%E1%BB%A5m%20lo%C3%A0%20ch%E1%BB%A3')).body.total).toBe(0);
    expect((await srv.api('GET', '/api/clusters?q=C%E1%BB%A5m%20loa%20ch%E1%BB%A3')).body.total).toBe(1);
    expect((await srv.api('GET', '/api/clusters?online=true')).body.total).toBe(0);
  });

  it('audits provisioning with the actor', async () => {
    const log = await srv.api('GET', '/api/audit?action=cluster.import');
    expect(log.status).toBe(200);
    expect(log.body.length).toBeGreaterThan(0);
    expect(log.body[0]).toMatchObject({ actorName: 'admin', action: 'cluster.import' });
  });
});
