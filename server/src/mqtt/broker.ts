import { Aedes } from 'aedes';
import { createServer as createTcpServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { guardedStream } from './packet-guard.ts';
import { indexedPersistence } from './persistence.ts';
import { boundedEmitter } from './emitter.ts';

/**
 * Stands in for aedes' per-client `duplicates` (lib/client.js dedupe): it remembers nothing, so nothing is dropped.
 * aedes drops a message whose broker counter is below the last one the client was sent, which is meant to catch a
 * packet matching two overlapping wildcard subscriptions. But server publishes do not reach the bus in counter order:
 * a retained one waits for storeRetained, a QoS 0 one skips the offline queue. The retained config published on a
 * birth was overtaken by the manifest published just after it and dropped, so on a restarted server (no retained
 * config yet) no cluster learnt its groups and an emergency reached 0 of 18 live (issue 8 §2; moscajs/aedes#994).
 * Device subscriptions are exact topics (policy.ts, authorizeSubscribe), so no packet matches two: nothing to dedupe.
 */
const REMEMBERS_NOTHING: Record<string, number> = new Proxy(Object.create(null), {
  get: () => undefined,
  set: () => true,
  deleteProperty: () => true,
});

/** The embedded broker. Its session store is in memory: devices re-announce themselves on reconnect. */
export async function createBroker(): Promise<Aedes> {
  const broker = await Aedes.createBroker({
    persistence: indexedPersistence() as never,
    // Clusters sit behind 4G; a stuck one must not block fan-out to the rest of the commune.
    drainTimeout: 30_000,
    // at most 1,000 messages in delivery at once, drained without recursion (see emitter.ts)
    mq: boundedEmitter(1000) as never,
    maxClientsIdLength: 64,
    maxTopicLevels: 8,
    queueLimit: 64,
    heartbeatInterval: 60_000,
  });
  // Set as the client is made, not on 'client': on a session takeover that event comes after the CONNACK.
  const handle = broker.handle;
  broker.handle = (conn, req) => {
    const client = handle(conn, req);
    (client as unknown as { duplicates: Record<string, number> }).duplicates = REMEMBERS_NOTHING;
    return client;
  };
  return broker;
}

export interface Listener {
  server: NetServer;
  port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  maxPacketBytes: number;
  tls?: { certFile: string; keyFile: string };
  onTooLarge: (size: number) => void;
}

/** Starts a TCP (or TLS) listener feeding the broker through the packet size guard. */
export function listen(broker: Aedes, o: ListenOptions): Promise<Listener> {
  const handle = (socket: Duplex) => {
    // Nagle plus delayed ACKs holds small packets ~40 ms: that would be the whole error budget of time sync.
    (socket as Socket).setNoDelay?.(true);
    broker.handle(guardedStream(socket, o.maxPacketBytes, o.onTooLarge) as any);
  };
  const server = o.tls
    ? createTlsServer({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, handle)
    : createTcpServer(handle);
  const sockets = new Set<Duplex>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      const addr = server.address();
      resolve({
        server,
        port: typeof addr === 'object' && addr ? addr.port : o.port,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
