import { describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { createServer } from 'node:net';
import mqtt from 'mqtt';
import { indexedPersistence } from '../server/src/mqtt/persistence.ts';

async function withBroker(fn: (url: string, broker: Aedes) => Promise<void>) {
  const broker = await Aedes.createBroker({ persistence: indexedPersistence() as never });
  const server = createServer(broker.handle as never);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    await fn(`mqtt://127.0.0.1:${port}`, broker);
  } finally {
    server.close();
    await new Promise<void>((done) => broker.close(() => done()));
  }
}

const publish = (broker: Aedes, topic: string, payload: string) =>
  new Promise<void>((r) => broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false }, () => r()));

function retainedFor(url: string, topic: string): Promise<string[]> {
  return new Promise((resolve) => {
    const got: string[] = [];
    const c = mqtt.connect(url, { reconnectPeriod: 0 });
    c.on('message', (t, p, packet) => packet.retain && got.push(`${t}=${p}`));
    c.on('connect', () => c.subscribe(topic, { qos: 1 }, () => setTimeout(() => (c.end(true), resolve(got.sort())), 50)));
  });
}

describe('indexed retained persistence', () => {
  it('answers exact subscriptions from the index, wildcards by scan, and forgets cleared topics', async () => {
    await withBroker(async (url, broker) => {
      await publish(broker, 'loa/v1/dev/aa1/config', 'A');
      await publish(broker, 'loa/v1/dev/bb2/config', 'B');
      await publish(broker, 'loa/v1/dev/aa1/config', 'A2');
      expect(await retainedFor(url, 'loa/v1/dev/aa1/config')).toEqual(['loa/v1/dev/aa1/config=A2']);
      expect(await retainedFor(url, 'loa/v1/dev/zz9/config')).toEqual([]);
      expect(await retainedFor(url, 'loa/v1/dev/+/config')).toEqual(['loa/v1/dev/aa1/config=A2', 'loa/v1/dev/bb2/config=B']);
      await publish(broker, 'loa/v1/dev/aa1/config', '');
      expect(await retainedFor(url, 'loa/v1/dev/aa1/config')).toEqual([]);
      expect(await retainedFor(url, 'loa/v1/#')).toEqual(['loa/v1/dev/bb2/config=B']);
    });
  });
});
