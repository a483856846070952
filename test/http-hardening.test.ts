import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { ADMIN_PASSWORD, startServer, type TestServer } from './helpers/server.ts';
import { webConsole } from '../server/src/web/web.plugin.ts';
import { securityHeaders, tileSource } from '../server/src/http/security.ts';

/** Bad input is a 400 naming the field, never a 5xx; every response carries the headers a security review expects. */
let srv: TestServer;
let app: FastifyInstance;
let cookie = '';
const auth = () => ({ authorization: `Bearer ${srv.token}` });

beforeAll(async () => {
  srv = await startServer({ LOA_TILE_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png', LOA_TRUST_PROXY: 'true' }, { listenHttp: false });
  app = srv.app;
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: ADMIN_PASSWORD } });
  cookie = login.cookies.find((c) => c.name === 'loa_session')!.value;
});
afterAll(() => srv?.close());

describe('integers out of range', () => {
  for (const url of ['/api/content', '/api/audit', '/api/clusters', '/api/broadcasts']) {
    it(`answers a huge offset on ${url} with 400 naming querystring/offset`, async () => {
      const res = await app.inject({ method: 'GET', url: `${url}?offset=99999999999999999999999`, headers: auth() });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'querystring/offset' });
    });
  }
});

describe('malformed multipart', () => {
  const upload = (contentType: string, payload: string) =>
    app.inject({ method: 'POST', url: '/api/content', headers: { ...auth(), 'content-type': contentType }, payload });

  it('answers a multipart body without a boundary with 400 naming body/file', async () => {
    const res = await upload('multipart/form-data', '--x\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\r\n--x--\r\n');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'body/file' });
  });

  it('answers a truncated part with 400 naming body/file', async () => {
    const res = await upload('multipart/form-data; boundary=x', '--x\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\nRIFF....');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'body/file' });
  });
});

describe('security headers', () => {
  const expectHeaders = (h: Record<string, unknown>) => {
    const csp = String(h['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/img-src [^;]*https:\/\/\*\.tile\.example\.org/);
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('same-origin');
    expect(h['x-frame-options']).toBeDefined();
  };

  it('are on an API response, an error included', async () => {
    expectHeaders((await app.inject({ method: 'GET', url: '/api/areas', headers: auth() })).headers);
    expectHeaders((await app.inject({ method: 'GET', url: '/api/areas' })).headers);
  });

  it('are on the console page', async () => {
    // The console plugin on a stand-in build, so the test needs no `vite build`.
    const root = mkdtempSync(join(tmpdir(), 'loa-web-')) + '/';
    writeFileSync(root + 'index.html', '<!doctype html><html><head><script type="module" src="/assets/i.js"></script></head><body></body></html>');
    const own = Fastify({ logger: false });
    try {
      await securityHeaders(own, () => srv.config.LOA_TILE_URL);
      await own.register(webConsole, { root });
      const res = await own.inject({ method: 'GET', url: '/clusters' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expectHeaders(res.headers);
    } finally {
      await own.close();
      rmSync(root, { recursive: true, force: true });
    }
    // The real app's shell (or its "not built" answer) is under the same policy.
    expectHeaders((await app.inject({ method: 'GET', url: '/' })).headers);
  });

  it('turns the tile URL template into a CSP source', () => {
    expect(tileSource('https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe('https://*.tile.openstreetmap.org');
    expect(tileSource('https://tiles.example.vn:8443/{z}/{x}/{y}.png')).toBe('https://tiles.example.vn:8443');
    expect(tileSource('/tiles/{z}/{x}/{y}.png')).toBeNull();
    expect(tileSource('')).toBeNull();
  });
});

describe('session cookie', () => {
  const login = (headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/auth/login', headers, payload: { username: 'admin', password: ADMIN_PASSWORD } });

  it('is Secure when the request came through a trusted proxy over https', async () => {
    const c = (await login({ 'x-forwarded-proto': 'https' })).cookies.find((k) => k.name === 'loa_session')!;
    expect(c.secure).toBe(true);
  });

  it('is not Secure over plain http', async () => {
    const c = (await login()).cookies.find((k) => k.name === 'loa_session')!;
    expect(c.secure).toBeFalsy();
  });
});

describe('origin check on cookie sessions', () => {
  const area = () => ({ id: `origin-${Math.random().toString(36).slice(2, 8)}`, name: 'Tỉnh Gốc', kind: 'province' });
  const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: '/api/areas', headers, cookies: { loa_session: cookie }, payload: area() });

  it('refuses a cookie POST without Origin or Referer, naming headers/origin', async () => {
    const res = await post({});
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ statusCode: 403, error: 'Forbidden', field: 'headers/origin' });
  });

  it('refuses a cookie POST from a foreign origin', async () => {
    for (const origin of ['http://evil.example', 'http://localhost:8081', 'https://localhost', 'null']) {
      const res = await post({ origin });
      expect(res.statusCode, origin).toBe(403);
      expect(res.json().field).toBe('headers/origin');
    }
    expect((await post({ referer: 'http://evil.example/page' })).statusCode).toBe(403);
  });

  it('accepts a cookie POST from its own origin, by Origin or by Referer', async () => {
    // inject's Host is localhost:80
    expect((await post({ origin: 'http://localhost' })).statusCode).toBe(201);
    expect((await post({ origin: 'http://localhost:80' })).statusCode).toBe(201);
    expect((await post({ referer: 'http://localhost/areas' })).statusCode).toBe(201);
  });

  it('compares with the origin the trusted proxy reports', async () => {
    const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'loa.example.vn' };
    expect((await post({ ...proxied, origin: 'https://loa.example.vn' })).statusCode).toBe(201);
    expect((await post({ ...proxied, origin: 'http://localhost' })).statusCode).toBe(403);
  });

  it('leaves cookie GETs alone', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/areas', cookies: { loa_session: cookie } })).statusCode).toBe(200);
  });

  it('does not apply to bearer tokens', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/areas', headers: auth(), payload: area() });
    expect(res.statusCode, res.body).toBe(201);
  });
});
