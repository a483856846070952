import type { Static, TSchema } from '@sinclair/typebox';
import { payloadCodec } from '../../../schemas/device-protocol/codec.ts';
import type { UpChannel } from '../../../schemas/device-protocol/topics.ts';
import type { DeviceLink } from './device-link.ts';

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
 * Dispatches device publishes (already authorised by the broker's policy) to typed handlers, channel by channel.
 * Payloads are validated against the protocol schema; a malformed one is counted and dropped, and a failing handler
 * is counted and never reaches the link.
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
   * Takes each routed channel's publishes from the device link. They arrive authorised; the link holds a QoS 1
   * acknowledgement until the promise `handle` returns has settled (device-link.ts, DeviceMessageHandler).
   */
  attach(link: Pick<DeviceLink, 'onMessage'>): void {
    for (const channel of this.routes.keys()) link.onMessage(channel, (clusterId, payload) => this.handle(clusterId, channel, payload));
  }

  /** Dispatches one authorised publish; returns a promise only when the handler is asynchronous. Never throws. */
  handle(clusterId: string, channel: UpChannel, payload: Buffer): Promise<void> | undefined {
    const route = this.routes.get(channel);
    if (!route) return;
    const receivedAt = this.hooks.now();
    try {
      this.hooks.onMessage(clusterId, channel);
      const decoded = route.decode(payload);
      if (!decoded.ok) return void this.hooks.onMalformed(clusterId, channel, decoded.error);
      const out = route.handler(clusterId, decoded.value, receivedAt);
      if (out && typeof (out as Promise<void>).then === 'function') {
        return (out as Promise<void>).then(
          () => undefined,
          (err) => this.failed(clusterId, channel, err),
        );
      }
    } catch (err) {
      this.failed(clusterId, channel, err);
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
