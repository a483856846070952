import type { Aedes } from 'aedes';
import type { Static, TSchema } from '@sinclair/typebox';
import { payloadCodec } from '../../../schemas/device-protocol/codec.ts';
import { parseTopic, type UpChannel } from '../../../schemas/device-protocol/topics.ts';

/** A handler may return a promise: the device's QoS 1 publish is acknowledged once it settles. */
type Handler<T> = (clusterId: string, payload: T, receivedAt: number) => void | Promise<unknown> | unknown;

interface Route {
  decode: (b: Buffer) => { ok: true; value: unknown } | { ok: false; error: string };
  handler: Handler<unknown>;
}

export interface RouterHooks {
  onMessage: (clusterId: string, channel: UpChannel) => void;
  onMalformed: (clusterId: string, channel: UpChannel, error: string) => void;
  onHandlerError: (clusterId: string, channel: UpChannel, err: unknown) => void;
  now: () => number;
}

/**
 * Dispatches device publishes (already authorised by the policy) to typed handlers. Payloads are validated against
 * the protocol schema; a malformed one is counted and dropped, and a failing handler is counted and never reaches
 * the broker.
 */
export class MqttRouter {
  private routes = new Map<UpChannel, Route>();

  constructor(private hooks: RouterHooks) {}

  on<S extends TSchema>(channel: UpChannel, schema: S, handler: Handler<Static<S>>): this {
    const codec = payloadCodec(schema);
    this.routes.set(channel, { decode: (b) => codec.decode(b), handler: handler as Handler<unknown> });
    return this;
  }

  /**
   * Handles device publishes inside the broker's authorizePublish hook, after the access policy has said yes.
   * aedes 1.2 writes a QoS 1 PUBACK before it publishes (lib/handlers/publish.js), so handling on the 'publish'
   * event lets a crash lose a report the device was told is safe (issue 8: 15 of 18 proof-of-play reports lost to a
   * kill -9). The policy hook is the only public one ahead of the PUBACK: the device is acknowledged once its
   * handler has returned (its SQLite write committed) or its promise settled. The will goes through here too.
   */
  attach(broker: Aedes): void {
    const policy = broker.authorizePublish;
    broker.authorizePublish = (client, packet, done) => {
      const proceed = (err?: Error | null) => {
        if (err) return done(err);
        const settled = this.handle(packet.topic, packet.payload as Buffer);
        if (settled) settled.then(() => done(null));
        else done(null);
      };
      if (policy) policy.call(broker, client, packet, proceed);
      else proceed(null);
    };
  }

  /** Dispatches one authorised publish; returns a promise only when the handler is asynchronous. Never throws. */
  handle(topic: string, payload: Buffer): Promise<void> | undefined {
    const t = parseTopic(topic);
    if (!t || t.kind !== 'device') return;
    const channel = t.channel as UpChannel;
    const route = this.routes.get(channel);
    if (!route) return;
    const receivedAt = this.hooks.now();
    try {
      this.hooks.onMessage(t.clusterId, channel);
      const decoded = route.decode(payload);
      if (!decoded.ok) return void this.hooks.onMalformed(t.clusterId, channel, decoded.error);
      const out = route.handler(t.clusterId, decoded.value, receivedAt);
      if (out && typeof (out as Promise<void>).then === 'function') {
        return (out as Promise<void>).then(
          () => undefined,
          (err) => this.failed(t.clusterId, channel, err),
        );
      }
    } catch (err) {
      this.failed(t.clusterId, channel, err);
    }
  }

  private failed(clusterId: string, channel: UpChannel, err: unknown): void {
    try {
      this.hooks.onHandlerError(clusterId, channel, err);
    } catch {
      /* the error hook itself must not take the broker down */
    }
  }
}
