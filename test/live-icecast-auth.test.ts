/**
 * Device credentials at Icecast: a real icecast2 on loopback whose mounts authenticate listeners by URL
 * (`<authentication type="url">`, listener_add → the server's POST /api/device/icecast-auth), the server pushing a
 * relay there (LOA_ICECAST_URL), and devices presenting their own credentials (HTTP Basic, cluster id : secret) to
 * Icecast as they do to the server. Icecast admits a cluster that holds an item of the stream, with the right secret,
 * and refuses wrong credentials, no credentials, a cluster the broadcast was not sent to, and — once the broadcast
 * is cancelled — the cluster that had it. The simulated cluster (its stream client sends Basic credentials to any
 * stream URL) plays the stream through Icecast and the server reports it playing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceClock, SimCluster } from '../firmware-sim/src/index.ts';
import { epochTag } from '../firmware-sim/src/stream-timeline.ts';
import { OggPageReader, type OggPage } from '../schemas/device-protocol/stream.ts';
import { startDemoUpstream, type DemoUpstream } from '../server/src/demo/demo-upstream.ts';
import { reports } from './helpers/broadcast.ts';
import { freePort, icecastAvailable } from './helpers/icecast.ts';
import { startAuthIcecast, type AuthIcecast } from './helpers/icecast-auth.ts';
import { provision, startServer, waitFor, type TestServer } from './helpers/server.ts';

const outputs = [0, 1, 2, 3].map((index) => ({ index, label: `Loa ${index + 1}`, ratedW: 50 }));
const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

/** Opens `url` as a listener would: the status, and (if 200) the first `want` pages. */
async function open(url: string, headers: Record<string, string>, want = 3): Promise<{ status: number; pages: OggPage[] }> {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 8000);
  try {
    const res = await fetch(url, { headers, signal: ctl.signal });
    const pages: OggPage[] = [];
    if (res.status === 200) {
      const reader = new OggPageReader();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        pages.push(...reader.push(Buffer.from(chunk)));
        if (pages.length >= want) break;
      }
    } else await res.arrayBuffer();
    return { status: res.status, pages };
  } finally {
    clearTimeout(t);
    ctl.abort();
  }
}

describe.skipIf(!icecastAvailable())('listener authentication at Icecast by URL (icecast2 not installed: apt-get install icecast2)', () => {
  let srv: TestServer;
  let ice: AuthIcecast;
  let upstream: DemoUpstream;
  let sim: SimCluster;
  let mine: { id: string; secret: string }[];
  let other: { id: string; secret: string };

  beforeAll(async () => {
    upstream = await startDemoUpstream();
    const port = await freePort();
    const password = randomBytes(9).toString('hex');
    srv = await startServer({ LOA_ICECAST_URL: `http://source:${password}@127.0.0.1:${port}` });
    ice = await startAuthIcecast({ port, sourcePassword: password, authUrl: `${srv.httpUrl}/api/device/icecast-auth` });
    mine = await provision(srv, 2, 'ia-commune');
    [other] = await provision(srv, 1, 'ia-elsewhere');
    sim = new SimCluster({ url: srv.mqttUrl, id: mine[0]!.id, secret: mine[0]!.secret, outputs, httpUrl: srv.httpUrl, reconnectPeriodMs: 100, bootDelayMs: 50, clock: new DeviceClock({ skewMs: -2000 }), timeSync: { samples: 8 } });
    await sim.start();
    await waitFor(() => sim.online && sim.clockOffsetMs !== null && srv.app.loa.services.health.peek(sim.id)?.birth, 20_000);
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
    await srv?.close();
    await ice?.stop();
    await upstream?.stop();
  });

  it('admits a cluster that holds the stream, with its own credentials, and refuses every other', async () => {
    const src = await srv.api('POST', '/api/live/sources', { areaId: 'ia-commune', name: 'VOV1', primaryUrl: upstream.url });
    expect(src.status, JSON.stringify(src.body)).toBe(201);
    const streamId = `r-${src.body.id}`;
    const mount = `/${streamId}.ogg`;
    const url = `${ice.base}${mount}`;
    // The second cluster of the commune is a v1.2 device too (birth declares `stream`), listening by hand below.
    const b = await srv.api('POST', '/api/broadcasts', { title: 'Tiếp sóng VOV1', level: 'normal', source: { relay: { sourceId: src.body.id, durationS: 30 } }, targets: { clusterIds: [mine[0]!.id] } });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    await srv.app.loa.services.live.tick();
    await srv.app.loa.services.broadcasts.progress();
    const item = (await srv.app.loa.services.manifests.delta(sim.id, 0)).items.find((i) => i.broadcastId === b.body.id)!;
    expect(item.stream!.url).toBe(url);
    // The server's Icecast source client is admitted by the source password, whatever the listener auth.
    await waitFor(async () => ((await ice.mounts()).includes(mount) ? true : null), 20_000);

    // The device with the item plays it through Icecast, and the server counts it playing.
    await waitFor(async () => ((await reports(srv, b.body.id, 'started')).length === 1 ? true : null), 25_000);
    await waitFor(async () => ((await srv.api('GET', `/api/broadcasts/${b.body.id}`)).body.live?.onAir === 1 ? true : null));
    await waitFor(() => (sim.streamStats(item.id)?.pagesPlayed ?? 0) > 25, 10_000);
    expect(await ice.listeners(mount)).toBe(1);
    // The same credentials by hand: admitted, and the stream carries its epoch in OpusTags.
    const right = await open(url, basic(mine[0]!.id, mine[0]!.secret));
    expect(right.status).toBe(200);
    expect(epochTag(right.pages[1]!.body)).toBe(srv.app.loa.services.live.stream(streamId)!.epochMs);

    // What Icecast asked the server, asked directly: the header for the cluster holding the item, 403 for another.
    const ask = (user: string, pass: string) =>
      srv.app.inject({ method: 'POST', url: '/api/device/icecast-auth', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ action: 'listener_add', mount, user, pass, ip: '127.0.0.1', client: '1', agent: 'x', server: '127.0.0.1', port: String(ice.port) }).toString() });
    const yes = await ask(mine[0]!.id, mine[0]!.secret);
    expect([yes.statusCode, yes.headers['icecast-auth-user']]).toEqual([200, '1']);
    const no = await ask(mine[1]!.id, mine[1]!.secret);
    expect([no.statusCode, no.headers['icecast-auth-user']]).toEqual([403, undefined]);
    const wrong = await ask(mine[0]!.id, 'wrong-secret-wrong-secret');
    expect([wrong.statusCode, wrong.headers['icecast-auth-user']]).toEqual([401, undefined]);

    // Refused by Icecast (401), its URL auth having asked the server: wrong secret, no credentials, a cluster the
    // broadcast was not sent to (right credentials, in another commune), a cluster of the commune not targeted.
    const refused = [
      await open(url, basic(mine[0]!.id, 'wrong-secret-wrong-secret')),
      await open(url, {}),
      await open(url, basic(other.id, other.secret)),
      await open(url, basic(mine[1]!.id, mine[1]!.secret)),
      await open(url, basic('cl-nobody', 'whatever-whatever')),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect(refused.every((r) => r.pages.length === 0)).toBe(true);
    // …while the admitted device goes on playing.
    expect(await ice.listeners(mount)).toBe(1);
    const played = sim.streamStats(item.id)!.pagesPlayed;
    await waitFor(() => sim.streamStats(item.id)!.pagesPlayed > played + 10, 10_000);

    // The broadcast cancelled, the stream still on its mount: the device no longer holds an item, so it is refused.
    expect((await srv.api('POST', `/api/broadcasts/${b.body.id}/cancel`)).status).toBe(200);
    await waitFor(async () => ((await reports(srv, b.body.id, 'cancelled')).length === 1 ? true : null));
    expect((await ice.mounts()).includes(mount)).toBe(true);
    expect((await open(url, basic(mine[0]!.id, mine[0]!.secret))).status).toBe(401);
  }, 90_000);

  it('the auth route admits nobody to a mount no stream of ours runs at, and answers listener_remove', async () => {
    const post = (form: Record<string, string>) =>
      srv.app.inject({ method: 'POST', url: '/api/device/icecast-auth', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });
    const base = { action: 'listener_add', server: '127.0.0.1', port: String(ice.port), client: '7', ip: '127.0.0.1', agent: 'x' };
    const none = await post({ ...base, mount: '/r-none.ogg', user: mine[0]!.id, pass: mine[0]!.secret });
    expect(none.statusCode).toBe(403);
    expect(none.headers['icecast-auth-user']).toBeUndefined();
    expect((await post({ action: 'listener_remove', mount: '/r-none.ogg', user: 'x', pass: 'y' })).statusCode).toBe(200);
    // Nothing posted, or not a form: no header, no 5xx.
    const empty = await srv.app.inject({ method: 'POST', url: '/api/device/icecast-auth' });
    expect([empty.statusCode, empty.headers['icecast-auth-user']]).toEqual([401, undefined]);
    const json = await srv.app.inject({ method: 'POST', url: '/api/device/icecast-auth', payload: { action: 'listener_add', user: mine[0]!.id, pass: mine[0]!.secret, mount: '/r-none.ogg' } });
    expect(json.headers['icecast-auth-user']).toBeUndefined();
  });
});

it('is not there without an Icecast to serve: credentials are not checked, and none gets a 401', async () => {
  const plain = await startServer();
  try {
    const [dev] = await provision(plain, 1, 'no-icecast');
    const res = await plain.app.inject({
      method: 'POST',
      url: '/api/device/icecast-auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ action: 'listener_add', mount: '/r-x.ogg', user: dev!.id, pass: dev!.secret }).toString(),
    });
    expect(res.statusCode).toBe(404);
    expect(res.headers['icecast-auth-user']).toBeUndefined();
    expect(res.json().message).toContain('LOA_ICECAST_URL');
  } finally {
    await plain.close();
  }
});
