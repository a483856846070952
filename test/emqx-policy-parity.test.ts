import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Aedes, Client, PublishPacket, Subscription } from 'aedes';
import { installPolicy } from '../server/src/mqtt/policy.ts';
import { EmqxHooks } from '../server/src/mqtt/emqx-hooks.ts';
import { DeviceDirectory } from '../server/src/devices/directory.ts';
import { hashDeviceSecret } from '../server/src/devices/credentials.ts';
import type { AreasService } from '../server/src/areas/areas.service.ts';

/**
 * The embedded broker's hooks (policy.ts) and the EMQX hooks (emqx-hooks.ts) must give one answer for every
 * (client, topic, action, qos, retain): both ask acl.ts, and this holds them to it. The embedded side runs through
 * aedes' own hook signatures on a stand-in broker; the EMQX side gets the body EMQX would post.
 *
 * Not compared, by design: what only one side can see — keep alive, payload size, rate, subscription count (the
 * embedded policy's; EMQX's own settings, docs/emqx.md) and a revoked device's live session (only EMQX has one).
 */
const PARENTS: Record<string, string[]> = { 'commune-a': ['commune-a', 'province'], 'commune-b': ['commune-b', 'province'] };
const areas = { ancestors: (id: string) => PARENTS[id] ?? [id] } as unknown as AreasService;
const directory = new DeviceDirectory(areas);
const CLIENTS = {
  'dev-a1': { areaId: 'commune-a', secret: 'secret-of-a1-xxxxxxxxxx', customGroups: ['g-pumps'] },
  'dev-a2': { areaId: 'commune-a', secret: 'secret-of-a2-xxxxxxxxxx', customGroups: [] },
  'dev-b1': { areaId: 'commune-b', secret: 'secret-of-b1-xxxxxxxxxx', customGroups: [] },
};
type Id = keyof typeof CLIENTS;
const IDS = Object.keys(CLIENTS) as Id[];
for (const [id, c] of Object.entries(CLIENTS)) directory.set(id, { areaId: c.areaId, secretHash: hashDeviceSecret(c.secret), customGroups: c.customGroups });

/** aedes' hook surface, as installPolicy uses it; the stand-in has no link behind it, so an allowed publish ends there. */
const broker = { on: () => broker } as unknown as Aedes;
installPolicy(broker, { directory, maxPacketBytes: 65_536, publishRate: 10_000, maxSubscriptions: 1000, onReject: () => undefined });
const hooks = new EmqxHooks({ directory, serverUsername: 'loa-server', serverPassword: 'server-password', onReject: () => undefined });

function embeddedConnect(clientId: string, username: string | undefined, password: string | undefined): Promise<{ client: Client; ok: boolean }> {
  const client = { id: clientId } as Client;
  return new Promise((resolve) => {
    broker.preConnect(client, { cmd: 'connect', protocolVersion: 4, keepalive: 30, clientId } as never, () => {
      broker.authenticate(client, username, password === undefined ? undefined : Buffer.from(password), (err, ok) => resolve({ client, ok: !err && !!ok }));
    });
  });
}

const sessions = new Map<Id, Client>();
async function session(id: Id): Promise<Client> {
  if (!sessions.has(id)) {
    const { client, ok } = await embeddedConnect(id, id, CLIENTS[id].secret);
    expect(ok).toBe(true);
    sessions.set(id, client);
  }
  return sessions.get(id)!;
}

interface Ask {
  client: Id;
  action: 'publish' | 'subscribe';
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

async function embedded(a: Ask): Promise<boolean> {
  const client = await session(a.client);
  return new Promise((resolve) => {
    if (a.action === 'publish') {
      const packet = { cmd: 'publish', topic: a.topic, qos: a.qos, retain: a.retain, dup: false, payload: Buffer.from('{}') } as PublishPacket;
      broker.authorizePublish!(client, packet, (err) => resolve(!err));
    } else {
      broker.authorizeSubscribe!(client, { topic: a.topic, qos: a.qos } as Subscription, (err, sub) => resolve(!err && !!sub));
    }
  });
}

const emqx = (a: Ask): boolean =>
  hooks.authorize({ clientid: a.client, username: a.client, topic: a.topic, action: a.action, qos: String(a.qos) as '0', retain: String(a.retain) as 'false' }).result === 'allow';

const CHANNELS = ['status', 'birth', 'telemetry', 'event', 'reply', 'time/req', 'airing', 'manifest/req', 'cmd', 'config', 'time/res', 'manifest', 'bogus', 'time', 'cmd/x'];
const GROUPS = ['a-commune-a', 'a-commune-b', 'a-province', 'g-pumps', 'g-other', '+', '#'];
const TOPICS = [
  ...[...IDS, '+', '#', 'Not-An-Id'].flatMap((id) => CHANNELS.map((ch) => `loa/v1/dev/${id}/${ch}`)),
  ...GROUPS.flatMap((g) => ['cmd', 'play', 'stop'].map((ch) => `loa/v1/grp/${g}/${ch}`)),
  'loa/v1/#', 'loa/v2/dev/dev-a1/telemetry', '#', '+', 'foo/bar', '$SYS/broker/uptime', 'loa/v1/dev/dev-a1', 'loa/v1/dev/dev-a1/',
];

describe('embedded policy and EMQX hooks: one ACL', () => {
  it('agree on every device, topic, action, QoS and retain flag of the table', async () => {
    const asks: Ask[] = [];
    for (const client of IDS) {
      for (const topic of TOPICS) {
        for (const qos of [0, 1, 2] as const) {
          for (const retain of [false, true]) asks.push({ client, action: 'publish', topic, qos, retain });
          asks.push({ client, action: 'subscribe', topic, qos, retain: false });
        }
      }
    }
    const differ: string[] = [];
    let allowed = 0;
    for (const a of asks) {
      const [e, h] = [await embedded(a), emqx(a)];
      if (e) allowed++;
      if (e !== h) differ.push(`${a.client} ${a.action} ${a.topic} qos ${a.qos}${a.retain ? ' retained' : ''}: embedded ${e}, emqx ${h}`);
    }
    expect(differ).toEqual([]);
    // The table is no table of refusals only: own up channels, own down channels and the groups are in it.
    expect(allowed).toBeGreaterThan(100);
  });

  it('agree on topics built at random from the grammar and around it', async () => {
    const level = fc.oneof(fc.constantFrom('loa', 'v1', 'dev', 'grp', ...IDS, ...GROUPS, ...CHANNELS, '$share', 'loa-server'), fc.stringMatching(/^[a-z0-9+#$-]{0,6}$/));
    const topic = fc.oneof(
      fc.array(level, { minLength: 1, maxLength: 6 }).map((l) => l.join('/')),
      fc.tuple(fc.constantFrom(...IDS, 'dev-zz'), fc.constantFrom(...CHANNELS)).map(([id, ch]) => `loa/v1/dev/${id}/${ch}`),
      fc.tuple(fc.constantFrom(...GROUPS), fc.constantFrom('cmd', 'play')).map(([g, ch]) => `loa/v1/grp/${g}/${ch}`),
    );
    const ask = fc.record({
      client: fc.constantFrom(...IDS),
      action: fc.constantFrom('publish' as const, 'subscribe' as const),
      topic,
      qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
      retain: fc.boolean(),
    }).map((a) => (a.action === 'subscribe' ? { ...a, retain: false } : a));
    await fc.assert(
      fc.asyncProperty(ask, async (a) => {
        expect(emqx(a), JSON.stringify(a)).toBe(await embedded(a));
      }),
      { numRuns: 2000 },
    );
  });

  it('agree on who may connect', async () => {
    const logins: [string, string | undefined, string | undefined][] = [
      ['dev-a1', 'dev-a1', CLIENTS['dev-a1'].secret],
      ['dev-a1', 'dev-a1', CLIENTS['dev-a2'].secret],
      ['dev-a2', 'dev-a1', CLIENTS['dev-a1'].secret],
      ['dev-a1', undefined, undefined],
      ['dev-a1', 'dev-a1', undefined],
      ['dev-a1', 'dev-a1', ''],
      ['nobody-here', 'nobody-here', CLIENTS['dev-a1'].secret],
      ['dev-b1', 'dev-b1', CLIENTS['dev-b1'].secret],
    ];
    for (const [clientid, username, password] of logins) {
      const { ok } = await embeddedConnect(clientid, username, password);
      // EMQX renders an absent username or password as "".
      const h = hooks.authenticate({ clientid, username: username ?? '', password: password ?? '' });
      expect(h.result === 'allow', `${clientid} as ${username}`).toBe(ok);
    }
  });
});
