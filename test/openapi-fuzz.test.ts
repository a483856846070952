import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { provision, startServer, type TestServer } from './helpers/server.ts';

/**
 * Walks every operation in the served OpenAPI document and throws invalid bodies, params and query strings at it.
 * Whatever it sends, the answer is never a 5xx. Routes added later are covered without touching this file.
 */
let srv: TestServer;
let ops: { method: string; path: string; op: any }[] = [];
let clusterId = '';

// Streaming or session-ending routes: fuzzing them would hang the stream or sign the fuzzer out.
const SKIP = new Set(['GET /api/stream', 'POST /api/auth/logout']);

beforeAll(async () => {
  srv = await startServer({}, { listenHttp: false });
  [{ id: clusterId }] = await provision(srv, 1);
  const doc = (await srv.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      if (SKIP.has(`${method.toUpperCase()} ${path}`)) continue;
      ops.push({ method: method.toUpperCase(), path, op });
    }
  }
});
afterAll(() => srv?.close());

const junkString = fc.oneof(fc.string(), fc.constantFrom('', ' ', '../../etc/passwd', '%00', 'null', '-1', '1e309', 'Infinity', '-1e400', 'NaN', 'ạ̀', '<script>', 'a'.repeat(300)));
const junkJson = fc.oneof(fc.anything({ maxDepth: 3 }), fc.dictionary(fc.string(), fc.anything({ maxDepth: 2 })), fc.constantFrom('{', '[]', 'null', '"x"', '{"a":'));

function fillPath(path: string, value: string): string {
  return path.replace(/\{[^}]+\}/g, () => encodeURIComponent(value));
}

describe('OpenAPI fuzz', () => {
  it('finds the documented routes', () => {
    const names = ops.map((o) => `${o.method} ${o.path}`);
    for (const must of ['POST /api/auth/login', 'GET /api/areas', 'GET /api/clusters', 'GET /api/clusters/{id}', 'POST /api/clusters/import']) expect(names).toContain(must);
  });

  it('never answers an invalid request with a 5xx', async () => {
    const failures: string[] = [];
    for (const { method, path, op } of ops) {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(junkString, fc.constant(clusterId)),
          fc.dictionary(fc.constantFrom(...((op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name) as string[]), 'x'), junkString),
          junkJson,
          fc.boolean(),
          async (pathValue, query, body, asText) => {
            const url = fillPath(path, pathValue) + '?' + new URLSearchParams(query as Record<string, string>).toString();
            const hasBody = method !== 'GET' && method !== 'DELETE';
            const res = await srv.app.inject({
              method: method as any,
              url,
              headers: { authorization: `Bearer ${srv.token}`, ...(hasBody ? { 'content-type': asText ? 'text/plain' : 'application/json' } : {}) },
              payload: hasBody ? (typeof body === 'string' && asText ? body : JSON.stringify(body) ?? 'null') : undefined,
            });
            if (res.statusCode >= 500) failures.push(`${method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
            return res.statusCode < 500;
          },
        ),
        { numRuns: 25, endOnFailure: true },
      ).catch(() => undefined);
    }
    expect(failures).toEqual([]);
  });

  it('answers every /api operation with 401 when unauthenticated, unless the route is public', async () => {
    const PUBLIC = new Set(['POST /api/auth/login', 'POST /api/auth/setup', 'GET /api/auth/setup', 'GET /api/device/content/{sha256}']);
    for (const { method, path } of ops) {
      if (!path.startsWith('/api/') || PUBLIC.has(`${method} ${path}`)) continue;
      const res = await srv.app.inject({ method: method as any, url: fillPath(path, clusterId) });
      expect(res.statusCode, `${method} ${path}`).toBe(401);
    }
  });
});

describe('numbers out of range and malformed multipart', () => {
  const OUT_OF_RANGE = ['99999999999999999999999', '9007199254740993', '-1', '-99999999999999999999999', '1e400', '-1e400', '1.5', '0x10', '1e3', ''];
  const numeric = (p: any) => ['integer', 'number'].includes(p.schema?.type ?? p.schema?.anyOf?.[0]?.type);

  it('answers every numeric query or path parameter out of range without a 5xx', async () => {
    const failures: string[] = [];
    let tried = 0;
    for (const { method, path, op } of ops) {
      for (const param of (op.parameters ?? []).filter((p: any) => (p.in === 'query' || p.in === 'path') && numeric(p))) {
        for (const v of OUT_OF_RANGE) {
          const url = param.in === 'path'
            ? fillPath(path.replace(`{${param.name}}`, encodeURIComponent(v)), clusterId)
            : `${fillPath(path, clusterId)}?${param.name}=${encodeURIComponent(v)}`;
          const res = await srv.app.inject({ method: method as any, url, headers: { authorization: `Bearer ${srv.token}` }, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
          tried++;
          if (res.statusCode >= 500) failures.push(`${method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  it('answers a malformed multipart body on every multipart route with a 4xx', async () => {
    // @fastify/swagger drops `consumes` when a route has no body schema (uploads stream theirs), so the description,
    // which names the encoding for the reader, is the other sign.
    const routes = ops.filter(({ op }) => op.requestBody?.content?.['multipart/form-data'] || /multipart\/form-data/.test(op.description ?? ''));
    expect(routes.length).toBeGreaterThan(0);
    const part = '--x\r\ncontent-disposition: form-data; name="file"; filename="a.wav"\r\ncontent-type: audio/wav\r\n\r\nRIFF....';
    const bodies: [string, string][] = [
      ['multipart/form-data', part + '\r\n--x--\r\n'], // no boundary
      ['multipart/form-data; boundary=', part], // empty boundary
      ['multipart/form-data; boundary=' + 'b'.repeat(300), part], // longer than busboy can search for
      ['multipart/form-data; boundary=x', part], // part cut off
      ['multipart/form-data; boundary=x', part + '\r\n--x'], // closing delimiter cut off
      ['multipart/form-data; boundary=x', '--x\r\ncontent-disposition: form-da'], // headers cut off
    ];
    const failures: string[] = [];
    for (const { method, path } of routes) {
      for (const [type, payload] of bodies) {
        const res = await srv.app.inject({ method: method as any, url: fillPath(path, clusterId), headers: { authorization: `Bearer ${srv.token}`, 'content-type': type }, payload });
        if (res.statusCode >= 500) failures.push(`${method} ${path} (${type.slice(0, 40)}) → ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('numbers that are not finite', () => {
  it('refuses an infinite limit on every list route, naming the parameter', async () => {
    for (const url of ['/api/content', '/api/audit', '/api/clusters', '/api/broadcasts']) {
      const res = await srv.app.inject({ method: 'GET', url: `${url}?limit=1e309`, headers: { authorization: `Bearer ${srv.token}` } });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().field, url).toBe('querystring/limit');
    }
  });
});
