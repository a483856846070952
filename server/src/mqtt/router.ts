import type { Aedes } from 'aedes';
import type { Static, TSchema } from '@sinclair/typebox';
import { payloadCodec } from '../../../schemas/device-protocol/codec.ts';
import { parseTopic, type UpChannel } from '../../../schemas/device-protocol/topics.ts';

type Handler<T> = (clusterId: string, payload: T, receivedAt: number) => void;

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
 * the protocol schema; a malformed one is counted and dropped, and a throwing handler never reaches the broker.
 */
export class MqttRouter {
  private routes = new Map<UpChannel, Route>();

  constructor(private hooks: RouterHooks) {}

  on<S extends TSchema>(channel: UpChannel, schema: S, handler: Handler<Static<S>>): this {
    const codec = payloadCodec(schema);
    this.routes.set(channel, { decode: (b) => codec.decode(b), handler: handler as Handler<unknown> });
    return this;
  }

  attach(broker: Aedes): void {
    broker.on('publish', (packet, client) => {
      if (!client) return; // the server's own publishes and $SYS
      const t = parseTopic(packet.topic);
      if (!t || t.kind !== 'device') return;
      const route = this.routes.get(t.channel as UpChannel);
      if (!route) return;
      const channel = t.channel as UpChannel;
      const receivedAt = this.hooks.now();
      this.hooks.onMessage(t.clusterId, channel);
      const decoded = route.decode(packet.payload as Buffer);
      if (!decoded.ok) return this.hooks.onMalformed(t.clusterId, channel, decoded.error);
      try {
        route.handler(t.clusterId, decoded.value, receivedAt);
      } catch (err) {
        this.hooks.onHandlerError(t.clusterId, channel, err);
      }
    });
  }
}
