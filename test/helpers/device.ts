import type { MqttClient } from 'mqtt';
import { CATALOG } from '../../schemas/device-protocol/catalog.ts';
import type { Telemetry } from '../../schemas/device-protocol/telemetry.ts';
import { deviceTopic } from '../../schemas/device-protocol/topics.ts';
import { connectRaw } from './server.ts';

export const exampleTelemetry = (): Telemetry => structuredClone(CATALOG.find((c) => c.channel === 'telemetry')!.example as Telemetry);

/** A hand-driven device for tests that need exact control of every packet. */
export async function rawDevice(mqttUrl: string, who: { id: string; secret: string }, opts: { will?: boolean; keepalive?: number } = {}) {
  const c: MqttClient = await connectRaw(mqttUrl, {
    clientId: who.id,
    username: who.id,
    password: who.secret,
    keepalive: opts.keepalive ?? 60,
    will: opts.will === false ? undefined : { topic: deviceTopic(who.id, 'status'), payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
  });
  const pub = (channel: Parameters<typeof deviceTopic>[1], body: unknown, retain = false) =>
    new Promise<void>((res, rej) => c.publish(deviceTopic(who.id, channel), typeof body === 'string' ? body : JSON.stringify(body), { qos: 1, retain }, (e) => (e ? rej(e) : res())));
  return {
    client: c,
    pub,
    online: () => pub('status', { state: 'online' }, true),
    telemetry: (patch: (t: Telemetry) => void = () => undefined) => {
      const t = exampleTelemetry();
      t.ts = Date.now();
      patch(t);
      return pub('telemetry', t);
    },
    /** Drops TCP without DISCONNECT, as a power cut would: the broker publishes the will. */
    kill: () => (c.stream as any).destroy(),
    end: () => new Promise<void>((r) => c.end(true, {}, () => r())),
  };
}
