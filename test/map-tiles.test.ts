import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { provision, startServer, type TestServer } from './helpers/server.ts';

/** Tiny but real image headers: the server tells the type from the bytes of an MBTiles tile. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mPY/v//fwAHsgNDw1OBcQAAAABJRU5ErkJggg==', 'base64');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('jpeg-tile')]);
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0, 0, 0]), Buffer.from('WEBPVP8 webp-tile')]);
const tagged = (img: Buffer, tag: string) => Buffer.concat([img, Buffer.from(tag)]);

/** An MBTiles file as the spec has it: TMS rows (row 0 = south), tiles keyed by (zoom_level, tile_column, tile_row). */
function writeMbtiles(file: string, tiles: [z: number, x: number, tmsRow: number, data: Buffer][]): void {
  const db = new Database(file);
  db.exec('CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB); CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);');
  db.prepare("INSERT INTO metadata VALUES ('name', 'test'), ('format', 'png')").run();
  const put = db.prepare('INSERT INTO tiles VALUES (?, ?, ?, ?)');
  for (const t of tiles) put.run(...t);
  db.close();
}

const square = (lon: number, lat: number) => [[[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]];
const OUTLINES = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { areaId: 'map-a', name: 'A' }, geometry: { type: 'Polygon', coordinates: square(106.5, 10.3) } },
    { type: 'Feature', properties: { areaId: 'map-b', name: 'B' }, geometry: { type: 'MultiPolygon', coordinates: [square(106.6, 10.4)] } },
    { type: 'Feature', properties: { name: 'no area' }, geometry: { type: 'LineString', coordinates: [[106.5, 10.3], [106.6, 10.4]] } },
    { type: 'Feature', properties: { areaId: 'map-a' }, geometry: { type: 'Point', coordinates: [106.5, 10.3] } },
  ],
};

let srv: TestServer;
let tmp: string;
let outlinesFile: string;
const get = (url: string, headers: Record<string, string> = { authorization: `Bearer ${srv.token}` }) => srv.app.inject({ method: 'GET', url, headers });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'loa-map-'));
  const mbtiles = join(tmp, 'xa.mbtiles');
  // z 1: TMS row 0 is the southern half, which XYZ calls y = 1.
  writeMbtiles(mbtiles, [[1, 0, 0, tagged(PNG, 'z1x0 south')], [1, 0, 1, tagged(PNG, 'z1x0 north')], [2, 3, 0, JPEG], [2, 3, 1, WEBP]]);
  const dir = join(tmp, 'tiles');
  for (const [path, data] of [['3/2/1.png', PNG], ['3/2/2.jpg', JPEG], ['3/4/5.webp', WEBP], ['1/1/0.png', tagged(PNG, 'from the directory')]] as const) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), data);
  }
  outlinesFile = join(tmp, 'outlines.geojson');
  writeFileSync(outlinesFile, JSON.stringify(OUTLINES));
  srv = await startServer({ LOA_TILE_MBTILES: mbtiles, LOA_TILE_DIR: dir, LOA_TILE_ATTRIBUTION: '© OpenStreetMap', LOA_AREA_OUTLINES: outlinesFile }, { listenHttp: false });
  await provision(srv, 1, 'map-a');
  await provision(srv, 1, 'map-b');
});
afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('map tiles served by the server', () => {
  it('turns the XYZ row into the MBTiles TMS row (y = 2^z − 1 − row)', async () => {
    const north = await get('/tiles/1/0/0');
    expect(north.statusCode).toBe(200);
    expect(north.rawPayload.toString('latin1')).toContain('z1x0 north');
    const south = await get('/tiles/1/0/1');
    expect(south.rawPayload.toString('latin1')).toContain('z1x0 south');
  });

  it('answers with the image type and a private cache lifetime', async () => {
    const png = await get('/tiles/1/0/0');
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers['cache-control']).toBe('private, max-age=86400');
    expect((await get('/tiles/2/3/3')).headers['content-type']).toBe('image/jpeg'); // TMS row 0
    expect((await get('/tiles/2/3/2')).headers['content-type']).toBe('image/webp'); // TMS row 1
  });

  it('falls back to the tile directory, by extension', async () => {
    for (const [url, type] of [['/tiles/3/2/1', 'image/png'], ['/tiles/3/2/2', 'image/jpeg'], ['/tiles/3/4/5', 'image/webp']]) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toBe(type);
    }
    const dirOnly = await get('/tiles/1/1/0');
    expect(dirOnly.rawPayload.toString('latin1')).toContain('from the directory');
  });

  it('answers 404 (JSON) for a tile neither source has, and for a path that is not a tile', async () => {
    for (const url of ['/tiles/1/1/1', '/tiles/5/0/0', '/tiles/1/0']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json().statusCode, url).toBe(404);
    }
  });

  it('refuses bad coordinates with 400 naming the field', async () => {
    const cases: [string, string][] = [['/tiles/abc/0/0', 'params/z'], ['/tiles/31/0/0', 'params/z'], ['/tiles/1/-1/0', 'params/x'], ['/tiles/1/2/0', 'params/x'], ['/tiles/1/0/2', 'params/y'], ['/tiles/1/0/0.5', 'params/y']];
    for (const [url, field] of cases) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json(), url).toMatchObject({ statusCode: 400, field });
    }
  });

  it('requires a session; the console cookie is one', async () => {
    expect((await get('/tiles/1/0/0', {})).statusCode).toBe(401);
    expect((await get('/api/map/outlines', {})).statusCode).toBe(401);
    expect((await get('/tiles/1/0/0', { cookie: `loa_session=${srv.token}` })).statusCode).toBe(200);
  });

  it('answers "no tile" when the MBTiles file cannot be opened, without failing', async () => {
    const saved = srv.config.LOA_TILE_MBTILES;
    srv.config.LOA_TILE_MBTILES = join(tmp, 'missing.mbtiles');
    try {
      expect((await get('/tiles/1/0/0')).statusCode).toBe(404);
      expect((await get('/tiles/3/2/1')).statusCode).toBe(200); // the directory still answers
    } finally {
      srv.config.LOA_TILE_MBTILES = saved;
    }
    expect((await get('/tiles/1/0/0')).statusCode).toBe(200);
  });
});

describe('console settings and area outlines', () => {
  it('points the console at /tiles with the attribution and the outlines switch', async () => {
    const r = await srv.app.inject({ method: 'GET', url: '/config.json' });
    expect(r.json()).toMatchObject({ tileUrl: '/tiles/{z}/{x}/{y}', tileAttribution: '© OpenStreetMap', mapOutlines: true });
    const saved = { dir: srv.config.LOA_TILE_DIR, mb: srv.config.LOA_TILE_MBTILES, url: srv.config.LOA_TILE_URL };
    Object.assign(srv.config, { LOA_TILE_DIR: '', LOA_TILE_MBTILES: '', LOA_TILE_URL: 'https://tiles.example.vn/{z}/{x}/{y}.png', LOA_AREA_OUTLINES: '' });
    try {
      expect((await srv.app.inject({ method: 'GET', url: '/config.json' })).json()).toMatchObject({ tileUrl: 'https://tiles.example.vn/{z}/{x}/{y}.png', mapOutlines: false });
    } finally {
      Object.assign(srv.config, { LOA_TILE_DIR: saved.dir, LOA_TILE_MBTILES: saved.mb, LOA_TILE_URL: saved.url, LOA_AREA_OUTLINES: outlinesFile });
    }
  });

  it('gives each user the outlines of their areas; points and other shapes that are not outlines are left out', async () => {
    const all = (await get('/api/map/outlines')).json();
    expect(all.type).toBe('FeatureCollection');
    expect(all.features.map((f: any) => f.properties.name)).toEqual(['A', 'B', 'no area']);
    expect(all.features[1].geometry).toEqual(OUTLINES.features[1].geometry);

    expect((await srv.api('POST', '/api/users', { username: 'vanhanh-a', password: 'mat-khau-van-hanh-a', role: 'operator', areaIds: ['map-a'] })).status).toBe(201);
    const login = await srv.api('POST', '/api/auth/login', { username: 'vanhanh-a', password: 'mat-khau-van-hanh-a' }, '');
    const mine = (await get('/api/map/outlines', { authorization: `Bearer ${login.body.token}` })).json();
    expect(mine.features.map((f: any) => f.properties.name)).toEqual(['A']);
  });

  it('reads the file again when it changes, and draws nothing from a file that is not GeoJSON', async () => {
    writeFileSync(outlinesFile, JSON.stringify({ ...OUTLINES, features: OUTLINES.features.slice(1, 2) }));
    utimesSync(outlinesFile, new Date(), new Date(Date.now() + 5000));
    expect((await get('/api/map/outlines')).json().features.map((f: any) => f.properties.name)).toEqual(['B']);
    writeFileSync(outlinesFile, '{ not json');
    utimesSync(outlinesFile, new Date(), new Date(Date.now() + 10_000));
    const broken = await get('/api/map/outlines');
    expect(broken.statusCode).toBe(200);
    expect(broken.json()).toEqual({ type: 'FeatureCollection', features: [] });
  });
});
