/**
 * Child process of bench/broadcast.ts: the reference broker for the fan-out baseline — `Aedes.createBroker()` with
 * default options (in-memory persistence, no hooks) on a plain TCP listener at 127.0.0.1 with TCP_NODELAY, as the
 * server's listener sets it. Usage: node --import tsx bench/broadcast-bare.ts <port>; prints `READY <port>`.
 *
 * Over IPC it can also publish in-process ({type:'publish', topic, bytes}), the way the server publishes a play
 * order (broker.publish, no client connection): it answers with the wall-clock instant just before the call and
 * when aedes called back.
 */
import { Aedes } from 'aedes';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

export type ToBareBroker = { type: 'publish'; topic: string; bytes: number };
export type FromBareBroker = { type: 'published'; at: number; doneAt: number; error: string | null };

const now = () => performance.timeOrigin + performance.now();
const port = Number(process.argv[2] ?? 1883);
const broker = await Aedes.createBroker();
const server = createServer({ noDelay: true }, broker.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY ${port}\n`));

process.on('message', (m: ToBareBroker) => {
  if (m.type === 'publish') {
    const payload = Buffer.alloc(m.bytes ?? 1024, 'x');
    const at = now();
    broker.publish({ cmd: 'publish', topic: m.topic, payload, qos: 1, retain: false, dup: false }, (err) => {
      const reply: FromBareBroker = { type: 'published', at, doneAt: now(), error: err ? String(err) : null };
      process.send?.(reply);
    });
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
