/**
 * Child process of bench/broadcast.ts: the bare baseline's subscribers. N mqtt.js 5 clients in one process, connected
 * with the options the simulator's Session uses (MQTT 3.1.1, clean session, keepalive 60 s, mqtt.js reconnect and
 * resubscribe off, native timers, a retained QoS 1 will), each subscribed at QoS 1 to one topic. After `arm`, each
 * client's first message on that topic is timestamped at the mqtt.js 'message' event — the same point at which
 * broadcast-fleet.ts timestamps the product's play order — on the shared wall clock
 * (performance.timeOrigin + performance.now()).
 */
import { connect, type MqttClient } from 'mqtt';
import { performance } from 'node:perf_hooks';

export type ToSubs =
  | { type: 'init'; url: string; ids: string[]; topic: string; concurrency: number; timeoutMs: number }
  | { type: 'arm' }
  | { type: 'collect'; timeoutMs: number }
  | { type: 'stop' };
export type FromSubs =
  | { type: 'ready'; connectMs: number; failed: number }
  | { type: 'progress'; subscribed: number; total: number }
  | { type: 'armed' }
  | { type: 'collected'; recv: number[]; elu: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const now = () => performance.timeOrigin + performance.now();
const send = (m: FromSubs) => process.send?.(m);

let clients: MqttClient[] = [];
let recv = new Float64Array(0);
let armed = false;
let armedElu = performance.eventLoopUtilization();

function one(url: string, id: string, topic: string, i: number, timeoutMs: number): Promise<MqttClient | null> {
  return new Promise((resolve) => {
    const c = connect(url, {
      clientId: id,
      username: id,
      password: 'bare-baseline-has-no-auth',
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reschedulePings: true,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      connectTimeout: timeoutMs,
      will: { topic: `loa/v1/dev/${id}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
      timerVariant: 'native',
    });
    const t = setTimeout(() => {
      c.end(true);
      resolve(null);
    }, timeoutMs);
    c.on('error', () => {});
    c.on('message', (tp) => {
      if (armed && tp === topic && Number.isNaN(recv[i])) recv[i] = now();
    });
    c.once('connect', () => {
      c.subscribe(topic, { qos: 1 }, (err) => {
        clearTimeout(t);
        resolve(err ? null : c);
      });
    });
  });
}

process.on('message', (m: ToSubs) => {
  void (async () => {
    try {
      if (m.type === 'init') {
        recv = new Float64Array(m.ids.length).fill(NaN);
        clients = new Array(m.ids.length);
        const t0 = Date.now();
        let next = 0;
        let failed = 0;
        let done = 0;
        const tick = setInterval(() => send({ type: 'progress', subscribed: done, total: m.ids.length }), 1000);
        await Promise.all(
          Array.from({ length: Math.max(1, m.concurrency) }, async () => {
            while (next < m.ids.length) {
              const i = next++;
              let c: MqttClient | null = null;
              for (let attempt = 0; attempt < 3 && !c; attempt++) c = await one(m.url, m.ids[i], m.topic, i, m.timeoutMs);
              if (c) clients[i] = c;
              else failed++;
              done++;
            }
          }),
        );
        clearInterval(tick);
        send({ type: 'ready', connectMs: Date.now() - t0, failed });
      } else if (m.type === 'arm') {
        recv.fill(NaN);
        armedElu = performance.eventLoopUtilization();
        armed = true;
        send({ type: 'armed' });
      } else if (m.type === 'collect') {
        const end = Date.now() + m.timeoutMs;
        const all = () => recv.every((x) => !Number.isNaN(x));
        while (!all() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
        armed = false;
        send({ type: 'collected', recv: Array.from(recv), elu: performance.eventLoopUtilization(armedElu).utilization });
      } else if (m.type === 'stop') {
        for (const c of clients) c?.end(true);
        send({ type: 'stopped' });
        setTimeout(() => process.exit(0), 100);
      }
    } catch (err) {
      send({ type: 'error', message: String((err as Error).stack ?? err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
