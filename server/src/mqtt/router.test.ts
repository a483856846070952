import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { Type } from '@sinclair/typebox';
import { createBroker } from './broker.ts';
import { EmbeddedLink } from './embedded-link.ts';
import { MqttRouter } from './router.ts';

/** The router on the embedded link, against a real broker over TCP: when a device's QoS 1 publish is acknowledged. */
let server: Server | undefined;
let client: MqttClient | undefined;
afterEach(async () => {
  await client?.endAsync(true);
  await new Promise((r) => (server ? server.close(r) : r(null)));
});

async function setup(router: MqttRouter, policy?: (topic: string) => Error | null) {
  const broker = await createBroker();
  if (policy) broker.authorizePublish = (_c, p, done) => done(policy(p.topic));
  router.attach(new EmbeddedLink(broker));
  server = createServer((s) => broker.handle(s as never));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, { reconnectPeriod: 0 });
  return client;
}
const hooks = (errors: unknown[] = []) => ({ now: () => Date.now(), onMessage: () => undefined, onMalformed: () => undefined, onHandlerError: (_i: string, _c: string, e: unknown) => void errors.push(e) });
const Airing = Type.Object({ n: Type.Integer() });

describe('MQTT router', () => {
  it('acknowledges a QoS 1 report only after its handler has settled', async () => {
    let finish!: () => void;
    const handled: number[] = [];
    const router = new MqttRouter(hooks()).on('airing', Airing, (_id, p) => new Promise<void>((r) => (finish = () => (handled.push(p.n), r()))));
    const c = await setup(router);
    let acked = false;
    const ack = c.publishAsync('loa/v1/dev/cl-0001/airing', JSON.stringify({ n: 7 }), { qos: 1 }).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 150));
    expect(finish).toBeTypeOf('function');
    expect(acked).toBe(false);
    finish();
    await ack;
    expect(handled).toEqual([7]);
  });

  it('does not run a handler for a publish the access policy refused', async () => {
    const handled: number[] = [];
    const router = new MqttRouter(hooks()).on('airing', Airing, (_id, p) => void handled.push(p.n));
    const c = await setup(router, (topic) => (topic.includes('/cl-0002/') ? new Error('refused') : null));
    await c.publishAsync('loa/v1/dev/cl-0001/airing', JSON.stringify({ n: 1 }), { qos: 1 });
    c.publish('loa/v1/dev/cl-0002/airing', JSON.stringify({ n: 2 }), { qos: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(handled).toEqual([1]);
  });

  it('counts a failing handler, synchronous or not, and still acknowledges', async () => {
    const errors: unknown[] = [];
    const router = new MqttRouter(hooks(errors))
      .on('airing', Airing, () => {
        throw new Error('sync fault');
      })
      .on('event', Airing, () => Promise.reject(new Error('async fault')));
    const c = await setup(router);
    await c.publishAsync('loa/v1/dev/cl-0001/airing', JSON.stringify({ n: 1 }), { qos: 1 });
    await c.publishAsync('loa/v1/dev/cl-0001/event', JSON.stringify({ n: 1 }), { qos: 1 });
    expect(errors.map((e) => (e as Error).message)).toEqual(['sync fault', 'async fault']);
  });
});
