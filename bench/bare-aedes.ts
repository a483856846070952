/**
 * The reference target: aedes with default options on plain TCP, nothing else — no auth, no ACL, no presence, no
 * persistence. Usage: node --import tsx bench/bare-aedes.ts <port>. Prints `READY <port>` once listening.
 *
 * Like the server's MQTT router, one in-process `publish` listener sees every device telemetry message; it only
 * counts them and, while asked to, records publish → here latency from the payload's leading `ts`. With an IPC
 * channel (run.ts) it answers {type:'count'} and {type:'lat-start'|'lat-stop'}.
 */
import { Aedes } from 'aedes';
import { createServer } from 'node:net';
import { quantiles, type Quantiles } from './stats.ts';

/** IPC with run.ts: the in-process listener's count, and publish → listener latency between lat-start and lat-stop. */
export type ToBare = { type: 'count' } | { type: 'lat-start' } | { type: 'lat-stop' };
export type FromBare = { type: 'count'; count: number; at: number } | { type: 'lat-started' } | { type: 'lat'; q: Quantiles };

const port = Number(process.argv[2] ?? 1883);
const broker = await Aedes.createBroker();
// TCP_NODELAY as on the server's listener (a socket option, not an aedes one), so latency compares like for like
const server = createServer({ noDelay: true }, broker.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY ${port}\n`));

let count = 0;
let recording = false;
let lat: number[] = [];
broker.on('publish', (packet, client) => {
  if (!client || !packet.topic.endsWith('/telemetry')) return;
  count++;
  if (!recording) return;
  const p = packet.payload as Buffer;
  const ts = Number(p.toString('latin1', 6, p.indexOf(44))); // payload starts with {"ts":<digits>,
  if (ts > 0) lat.push(Date.now() - ts);
});

const send = (m: FromBare) => process.send?.(m);
process.on('message', (m: ToBare) => {
  if (m.type === 'count') send({ type: 'count', count, at: Date.now() });
  else if (m.type === 'lat-start') {
    lat = [];
    recording = true;
    send({ type: 'lat-started' });
  } else if (m.type === 'lat-stop') {
    recording = false;
    send({ type: 'lat', q: quantiles(lat) });
    lat = [];
  }
});

const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
