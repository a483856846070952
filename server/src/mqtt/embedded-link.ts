import type { Aedes, Client, Subscription, UnsubscribePacket } from 'aedes';
import { isUpChannel, parseTopic } from '../../../schemas/device-protocol/topics.ts';
import { createBroker } from './broker.ts';
import { LinkEvents } from './link-events.ts';
import type { DeviceLink, GroupSubscription } from './device-link.ts';

/** The granted QoS aedes' 'subscribe' event reports for a subscription the policy refused. */
const REFUSED = 128;


/**
 * The device link over the embedded aedes broker. Only aedes' documented surface is used: its events ('client',
 * 'clientReady', 'clientDisconnect', 'subscribe', 'unsubscribe'), `publish`, the `authorizePublish` hook and the
 * Client's `close`/`unsubscribe`. Which session is current and what it subscribed is tracked here, not read from
 * aedes' undocumented `broker.clients` and `client.subscriptions`.
 *
 * Device publishes are handled inside `authorizePublish`, after the access policy (policy.ts) has said yes: aedes
 * 1.2 writes a QoS 1 PUBACK before it publishes (lib/handlers/publish.js), so the 'publish' event would let a crash
 * lose a report the device was told is safe (issue 8: 15 of 18 proof-of-play reports lost to a kill -9). The hook is
 * the only public one ahead of the PUBACK. Wills go through it too. The policy may be installed before or after the
 * link: each chains to the hook it finds (policy in front, dispatch behind).
 */
export class EmbeddedLink extends LinkEvents implements DeviceLink {
  /** the newest session of each cluster: set once registered or ready, cleared only by its own disconnect */
  private sessions = new Map<string, Client>();
  /** granted subscriptions of each connection, from 'subscribe' (restored ones included) minus 'unsubscribe' */
  private subs = new WeakMap<Client, Set<string>>();

  constructor(readonly broker: Aedes) {
    super();
    const policy = broker.authorizePublish;
    broker.authorizePublish = (client, packet, done) => {
      const proceed = (err?: Error | null) => {
        if (err) return done(err);
        const settled = this.dispatch(packet.topic, packet.payload as Buffer);
        if (settled) void settled.then(() => done(null));
        else done(null);
      };
      if (policy) policy.call(broker, client, packet, proceed);
      else proceed(null);
    };
    // 'client' comes after a takeover has closed the older session, and on a takeover possibly after 'clientReady'.
    broker.on('client', (c: Client) => {
      if (!c.closed) this.sessions.set(c.id, c);
    });
    broker.on('clientReady', (c: Client) => {
      this.sessions.set(c.id, c);
      this.ups.emit(c.id);
    });
    broker.on('clientDisconnect', (c: Client) => {
      if (this.sessions.get(c.id) !== c) return; // a newer session of the same cluster replaced this one
      this.sessions.delete(c.id);
      this.downs.emit(c.id);
    });
    broker.on('subscribe', (granted: Subscription[], c: Client) => {
      if (!c) return;
      const set = this.subs.get(c) ?? new Set<string>();
      this.subs.set(c, set);
      const groups: GroupSubscription[] = [];
      for (const s of granted) {
        if ((s.qos as number) === REFUSED) continue;
        set.add(s.topic);
        const t = parseTopic(s.topic);
        if (t?.kind === 'group') groups.push({ groupId: t.groupId, channel: t.channel });
      }
      if (groups.length) this.groupSubs.emit(c.id, groups);
    });
    broker.on('unsubscribe', (topics: string[], c: Client) => {
      const set = c && this.subs.get(c);
      if (set) for (const t of topics) set.delete(t);
    });
  }

  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain?: boolean }): Promise<void> {
    return new Promise((resolve, reject) =>
      this.broker.publish({ cmd: 'publish', topic, payload, qos: opts.qos, retain: opts.retain ?? false, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
  }

  isConnected(clusterId: string): boolean {
    const c = this.sessions.get(clusterId);
    return !!c && !c.closed;
  }

  disconnect(clusterId: string): Promise<void> {
    const c = this.sessions.get(clusterId);
    if (!c || c.closed) return Promise.resolve();
    return new Promise((resolve) => c.close(() => resolve()));
  }

  dropGroupSubscriptions(clusterId: string, allowedGroups: readonly string[]): Promise<string[]> {
    const c = this.sessions.get(clusterId);
    const set = c && this.subs.get(c);
    if (!c || !set) return Promise.resolve([]);
    const stale = [...set].filter((topic) => {
      const t = parseTopic(topic);
      return t?.kind === 'group' && !allowedGroups.includes(t.groupId);
    });
    if (!stale.length) return Promise.resolve([]);
    // Topic strings, as in an UNSUBSCRIBE packet: aedes looks subscriptions up by topic, so { topic } objects (what
    // this did before the link) matched nothing and unsubscribed nothing. Without a messageId the device is sent no
    // UNSUBACK; aedes emits 'unsubscribe', which updates `subs`.
    const packet = { cmd: 'unsubscribe', unsubscriptions: stale } as UnsubscribePacket;
    return new Promise((resolve) => c.unsubscribe(packet, () => resolve(stale)));
  }

  get up(): boolean {
    return !this.broker.closed;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.broker.close(() => resolve()));
  }

  /** Dispatches one authorised device publish; returns a promise only while its handler is still working. */
  private dispatch(topic: string, payload: Buffer): Promise<void> | undefined {
    const t = parseTopic(topic);
    if (!t || t.kind !== 'device' || !isUpChannel(t.channel)) return;
    const handler = this.handlers.get(t.channel);
    if (!handler) return;
    try {
      const out = handler(t.clusterId, payload);
      if (out && typeof (out as Promise<unknown>).then === 'function') return (out as Promise<unknown>).then(settledOk, settledOk);
    } catch {
      /* handlers report their own failures (router.ts); the broker goes on */
    }
  }
}

const settledOk = (): void => undefined;

/** The embedded broker (broker.ts) behind a device link. */
export async function createEmbeddedLink(): Promise<EmbeddedLink> {
  return new EmbeddedLink(await createBroker());
}
