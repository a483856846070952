import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startServer, type TestServer } from './helpers/server.ts';

/**
 * EMQX's HTTP authenticator and authoriser (docs/emqx.md) against a real server, called exactly as EMQX 5 calls
 * them: POST, its default headers plus the configured secret, and a JSON body whose every placeholder EMQX has
 * rendered as a string (emqx_auth_template render_deep_for_json: qos "1", retain "false", an absent username "").
 */
const SECRET = 'emqx-hook-secret-0123456789';
const SERVER = { username: 'loa-server', password: 'server-password-for-emqx' };

let srv: TestServer;
let off: TestServer;
let a: { id: string; secret: string };
let b: { id: string; secret: string };
let gone: { id: string; secret: string };
let other: { id: string; secret: string };

beforeAll(async () => {
  srv = await startServer({ LOA_EMQX_HOOK_SECRET: SECRET, LOA_MQTT_USERNAME: SERVER.username, LOA_MQTT_PASSWORD: SERVER.password });
  [a, b, gone] = await provision(srv, 3, 'commune-a');
  [other] = await provision(srv, 1, 'commune-b');
  const revoked = await srv.api('POST', `/api/clusters/${gone.id}/credential/revoke`);
  expect(revoked.status).toBe(204);
  off = await startServer();
});
afterAll(async () => {
  await srv?.close();
  await off?.close();
});

/** The headers EMQX sends by default (emqx_auth_http_utils default_headers) and the one docs/emqx.md adds. */
const emqxHeaders = (secret: string | null = SECRET): Record<string, string> => ({
  'content-type': 'application/json',
  accept: 'application/json',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'keep-alive': 'timeout=30, max=1000',
  ...(secret === null ? {} : { 'x-loa-hook-secret': secret }),
});

async function hook(path: 'authn' | 'authz', body: unknown, opts: { server?: TestServer; secret?: string | null } = {}) {
  const res = await (opts.server ?? srv).app.inject({
    method: 'POST',
    url: `/api/emqx/${path}`,
    headers: emqxHeaders(opts.secret === undefined ? SECRET : opts.secret),
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json(), contentType: res.headers['content-type'] };
}

const authn = (clientid: string, username: string, password: string) => hook('authn', { clientid, username, password, peerhost: '10.0.0.7' });
const authz = (who: { clientid: string; username: string }, action: string, topic: string, qos = 1, retain = false) =>
  hook('authz', { ...who, topic, action, qos: String(qos), retain: String(retain), peerhost: '10.0.0.7' });
const as = (c: { id: string }) => ({ clientid: c.id, username: c.id });
const server = { clientid: 'loa-server-node1', username: SERVER.username };

async function rejected(reason: string): Promise<number> {
  const m = await srv.app.loa.services.metrics.mqttRejected.get();
  return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('POST /api/emqx/authn', () => {
  it('allows a provisioned device with its own secret, never as superuser, as JSON', async () => {
    const r = await authn(a.id, a.id, a.secret);
    expect(r).toMatchObject({ status: 200, body: { result: 'allow', is_superuser: false } });
    expect(r.contentType).toMatch(/^application\/json/);
  });

  it('denies a wrong secret (200 "deny": any other status would read as "ignore") and counts it', async () => {
    const before = await rejected('bad_credentials');
    expect(await authn(a.id, a.id, b.secret)).toMatchObject({ status: 200, body: { result: 'deny', is_superuser: false } });
    expect(await rejected('bad_credentials')).toBe(before + 1);
  });

  it('denies a client id that is not the username, even with the right secret', async () => {
    const before = await rejected('client_id_mismatch');
    expect((await authn(b.id, a.id, a.secret)).body.result).toBe('deny');
    expect(await rejected('client_id_mismatch')).toBe(before + 1);
  });

  it('denies a revoked device, an unknown cluster and an anonymous CONNECT', async () => {
    expect((await authn(gone.id, gone.id, gone.secret)).body.result).toBe('deny');
    expect((await authn('nobody-here', 'nobody-here', a.secret)).body.result).toBe('deny');
    const before = await rejected('anonymous');
    expect((await authn(a.id, '', '')).body.result).toBe('deny');
    expect(await rejected('anonymous')).toBe(before + 1);
  });

  it("allows the server's own account with its password from any instance's client id, and nothing else under its name", async () => {
    expect((await authn('loa-server-node1', SERVER.username, SERVER.password)).body).toEqual({ result: 'allow', is_superuser: false });
    expect((await authn('loa-server-node2', SERVER.username, SERVER.password)).body.result).toBe('allow');
    expect((await authn('loa-server-node1', SERVER.username, a.secret)).body.result).toBe('deny');
  });
});

describe('POST /api/emqx/authz: a device', () => {
  it('may publish its own up channels at QoS 0 and 1', async () => {
    for (const ch of ['telemetry', 'event', 'reply', 'time/req', 'birth', 'airing', 'manifest/req', 'status']) {
      expect((await authz(as(a), 'publish', `loa/v1/dev/${a.id}/${ch}`)).body, ch).toEqual({ result: 'allow' });
    }
    expect((await authz(as(a), 'publish', `loa/v1/dev/${a.id}/telemetry`, 0)).body.result).toBe('allow');
  });

  it("may not publish another device's topics, its own down channels, group topics or anything else", async () => {
    const before = await rejected('topic_not_allowed');
    const topics = [`loa/v1/dev/${b.id}/telemetry`, `loa/v1/dev/${b.id}/status`, `loa/v1/dev/${a.id}/cmd`, `loa/v1/dev/${a.id}/config`, 'loa/v1/grp/a-commune-a/play', 'foo/bar', '$SYS/broker/x'];
    for (const t of topics) expect((await authz(as(a), 'publish', t)).body.result, t).toBe('deny');
    expect(await rejected('topic_not_allowed')).toBe(before + topics.length);
  });

  it('retains only its status, and never publishes at QoS 2', async () => {
    expect((await authz(as(a), 'publish', `loa/v1/dev/${a.id}/status`, 1, true)).body.result).toBe('allow');
    const retain = await rejected('retain_not_allowed');
    expect((await authz(as(a), 'publish', `loa/v1/dev/${a.id}/telemetry`, 1, true)).body.result).toBe('deny');
    expect(await rejected('retain_not_allowed')).toBe(retain + 1);
    const qos = await rejected('qos_not_allowed');
    expect((await authz(as(a), 'publish', `loa/v1/dev/${a.id}/telemetry`, 2)).body.result).toBe('deny');
    expect(await rejected('qos_not_allowed')).toBe(qos + 1);
  });

  it('may subscribe to its own down channels and to the groups of its areas, not to others', async () => {
    for (const ch of ['cmd', 'config', 'time/res', 'manifest']) expect((await authz(as(a), 'subscribe', `loa/v1/dev/${a.id}/${ch}`)).body.result, ch).toBe('allow');
    for (const g of ['a-commune-a', 'a-test-province']) {
      for (const ch of ['cmd', 'play']) expect((await authz(as(a), 'subscribe', `loa/v1/grp/${g}/${ch}`)).body.result, `${g}/${ch}`).toBe('allow');
    }
    const before = await rejected('subscribe_not_allowed');
    const denied = ['loa/v1/grp/a-commune-b/play', `loa/v1/dev/${b.id}/cmd`, `loa/v1/dev/${a.id}/telemetry`, 'loa/v1/dev/+/cmd', 'loa/v1/grp/#', '#'];
    for (const t of denied) expect((await authz(as(a), 'subscribe', t)).body.result, t).toBe('deny');
    expect(await rejected('subscribe_not_allowed')).toBe(before + denied.length);
    expect((await authz(as(other), 'subscribe', 'loa/v1/grp/a-commune-b/play')).body.result).toBe('allow');
  });

  it('is refused everything once revoked (its session outlives the revocation on EMQX), and so is a client id that is not its username', async () => {
    const before = await rejected('revoked');
    expect((await authz(as(gone), 'publish', `loa/v1/dev/${gone.id}/telemetry`)).body.result).toBe('deny');
    expect((await authz(as(gone), 'subscribe', `loa/v1/dev/${gone.id}/cmd`)).body.result).toBe('deny');
    expect(await rejected('revoked')).toBe(before + 2);
    expect((await authz({ clientid: b.id, username: a.id }, 'publish', `loa/v1/dev/${b.id}/telemetry`)).body.result).toBe('deny');
  });

  it("answers 'all' only when both publish and subscribe would be allowed", async () => {
    expect((await authz(as(a), 'all', `loa/v1/dev/${a.id}/telemetry`)).body.result).toBe('deny');
  });
});

describe("POST /api/emqx/authz: the server's account", () => {
  it('publishes on the down topics and the group topics, and the retained config and offline status', async () => {
    for (const ch of ['cmd', 'config', 'time/res', 'manifest']) expect((await authz(server, 'publish', `loa/v1/dev/${a.id}/${ch}`)).body.result, ch).toBe('allow');
    expect((await authz(server, 'publish', 'loa/v1/grp/a-commune-a/play')).body.result).toBe('allow');
    expect((await authz(server, 'publish', `loa/v1/dev/${a.id}/config`, 1, true)).body.result).toBe('allow');
    expect((await authz(server, 'publish', `loa/v1/dev/${a.id}/status`, 1, true)).body.result).toBe('allow');
  });

  it('subscribes to the up channels, in the $share/loa/ group or not, as external-link.ts does', async () => {
    expect((await authz(server, 'subscribe', 'loa/v1/dev/+/status')).body.result).toBe('allow');
    for (const ch of ['birth', 'telemetry', 'event', 'reply', 'time/req', 'airing', 'manifest/req']) {
      // EMQX 5 asks about the filter without its share prefix; older releases sent it whole.
      expect((await authz(server, 'subscribe', `loa/v1/dev/+/${ch}`)).body.result, ch).toBe('allow');
      expect((await authz(server, 'subscribe', `$share/loa/loa/v1/dev/+/${ch}`)).body.result, ch).toBe('allow');
    }
  });

  it('has nothing else: no telemetry publishing, no wildcard beyond the up channels, no other share group, no QoS 2', async () => {
    expect((await authz(server, 'publish', `loa/v1/dev/${a.id}/telemetry`)).body.result).toBe('deny');
    expect((await authz(server, 'publish', `loa/v1/dev/${a.id}/cmd`, 1, true)).body.result).toBe('deny');
    expect((await authz(server, 'publish', `loa/v1/dev/${a.id}/cmd`, 2)).body.result).toBe('deny');
    for (const t of ['#', 'loa/v1/#', 'loa/v1/dev/+/cmd', '$share/other/loa/v1/dev/+/telemetry', '$SYS/#']) expect((await authz(server, 'subscribe', t)).body.result, t).toBe('deny');
  });
});

describe('the hooks are for EMQX only', () => {
  it('401 without the secret header or with a wrong one, before the body is looked at', async () => {
    const before = await rejected('emqx_hook_secret');
    expect((await hook('authn', { clientid: a.id, username: a.id, password: a.secret }, { secret: null })).status).toBe(401);
    expect((await hook('authz', { nonsense: true }, { secret: 'wrong-secret' })).status).toBe(401);
    expect(await rejected('emqx_hook_secret')).toBe(before + 2);
  });

  it('401 when LOA_EMQX_HOOK_SECRET is not set, whatever is sent: the hooks are off', async () => {
    expect((await hook('authn', { clientid: a.id, username: a.id, password: a.secret }, { server: off })).status).toBe(401);
    expect((await hook('authz', {}, { server: off, secret: null })).status).toBe(401);
  });

  it('400 naming the field on a malformed body', async () => {
    const noPassword = await hook('authn', { clientid: a.id, username: a.id });
    expect(noPassword).toMatchObject({ status: 400, body: { field: 'body/password' } });
    const badAction = await hook('authz', { ...as(a), topic: 'loa/v1/x', action: 'delete', qos: '1', retain: 'false' });
    expect(badAction).toMatchObject({ status: 400, body: { field: 'body/action' } });
    // What an EMQX older than 5.1.1 sends for placeholders it does not know: the template text itself.
    const oldEmqx = await hook('authz', { ...as(a), topic: `loa/v1/dev/${a.id}/telemetry`, action: 'publish', qos: '${qos}', retain: '${retain}' });
    expect(oldEmqx).toMatchObject({ status: 400, body: { field: 'body/qos' } });
    const notJson = await hook('authn', '{"clientid":');
    expect(notJson.status).toBe(400);
  });
});
