/**
 * Diagnostic preload for the server child (`--mq-probe` in bench/broadcast.ts): watches aedes' mqemitter from the
 * outside — nothing in server/ changes. Every second it prints one line to stderr (the server log) when anything
 * moved: the most emits in flight (`current`, capped by the broker's `concurrency`), the longest queue of emits
 * waiting for a slot, the deepest synchronous chain of queue releases (released → _do → done → released …),
 * which is what overflows the stack when a long queue drains messages that complete synchronously, and the emits
 * in flight right now by kind of topic with the age of the oldest (what is holding the slots).
 *
 *   node --import tsx --import ./bench/broadcast-mqprobe.ts server/src/main.ts
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const MQEmitter = require('mqemitter') as { prototype: Record<string, (...a: unknown[]) => unknown> } & ((...a: unknown[]) => unknown);
const proto = (MQEmitter as unknown as { prototype: Record<string, (...a: unknown[]) => unknown> }).prototype;

let maxCurrent = 0;
let maxQueue = 0;
let depth = 0;
let maxDepth = 0;
let queued = 0;
let last = '';

/** emits in flight (handed to their subscribers, not all of them done), by kind of topic, with their start time */
const inFlight = new Map<number, { kind: string; at: number }>();
let nextId = 0;
const kindOf = (topic: string) => {
  const m = /^loa\/v1\/(dev|grp)\/[^/]+\/(.+)$/.exec(topic);
  return m ? `${m[1]}/${m[2]}` : topic.startsWith('$SYS') ? '$SYS' : 'other';
};

const origDo = proto._do;
proto._do = function (this: { current: number; _messageQueue: unknown[] }, ...args: unknown[]) {
  depth++;
  if (depth > maxDepth) maxDepth = depth;
  const id = nextId++;
  const msg = args[0] as { topic: string };
  const cb = args[1] as ((...a: unknown[]) => void) | undefined;
  inFlight.set(id, { kind: kindOf(msg.topic), at: Date.now() });
  args[1] = function (this: unknown, ...a: unknown[]) {
    inFlight.delete(id);
    return cb?.apply(this, a);
  };
  try {
    return origDo.apply(this, args);
  } finally {
    depth--;
    if (this.current > maxCurrent) maxCurrent = this.current;
  }
};
/**
 * What-if (never the product as shipped): LOA_BENCH_MQ_CONCURRENCY overrides the concurrency the broker gave its
 * mqemitter (server/src/mqtt/broker.ts sets 1000; 0 = no cap, so nothing is ever queued).
 */
const override = process.env.LOA_BENCH_MQ_CONCURRENCY;
const origEmit = proto.emit;
proto.emit = function (this: { current: number; concurrency: number; _messageQueue: unknown[] }, ...args: unknown[]) {
  if (override !== undefined && override !== '' && this.concurrency !== Number(override)) this.concurrency = Number(override);
  if (this.concurrency > 0 && this.current >= this.concurrency) queued++;
  const r = origEmit.apply(this, args);
  if (this._messageQueue.length > maxQueue) maxQueue = this._messageQueue.length;
  if (this.current > maxCurrent) maxCurrent = this.current;
  return r;
};

setInterval(() => {
  const by = new Map<string, { n: number; oldest: number }>();
  const t = Date.now();
  for (const f of inFlight.values()) {
    const e = by.get(f.kind) ?? { n: 0, oldest: 0 };
    e.n++;
    e.oldest = Math.max(e.oldest, t - f.at);
    by.set(f.kind, e);
  }
  const flights = [...by.entries()].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => `${k}:${v.n}(oldest ${v.oldest}ms)`).join(' ');
  const line = `mq-probe maxCurrent=${maxCurrent} maxQueue=${maxQueue} queuedTotal=${queued} maxSyncDepth=${maxDepth} inFlight=${inFlight.size} ${flights}`;
  if (line !== last) {
    last = line;
    process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  }
}, 1000).unref();

// ---- timeline of one broadcast, on the shared wall clock (performance.timeOrigin + performance.now()) ----------

const wall = () => (performance.timeOrigin + performance.now()).toFixed(1);
const note = (s: string) => process.stderr.write(`${new Date().toISOString()} probe ${s}\n`);

// when the POST reaches the HTTP server
const http = require('node:http') as typeof import('node:http');
const origServerEmit = http.Server.prototype.emit as (this: unknown, event: string, ...args: unknown[]) => boolean;
http.Server.prototype.emit = function (this: unknown, event: string, ...args: unknown[]) {
  if (event === 'request') {
    const req = args[0] as { method?: string; url?: string };
    if (req.method === 'POST' && req.url === '/api/broadcasts') note(`POST /api/broadcasts arrived at=${wall()}`);
  }
  return origServerEmit.call(this, event, ...args);
} as typeof http.Server.prototype.emit;

// when the group play order enters the broker's emitter, and when every subscriber has it (aedes' callback)
const doBefore = proto._do;
proto._do = function (this: unknown, ...args: unknown[]) {
  const msg = args[0] as { topic: string };
  if (/^loa\/v1\/grp\/[^/]+\/play$/.test(msg.topic)) {
    note(`play publish ${msg.topic} start at=${wall()}`);
    const cb = args[1] as ((...a: unknown[]) => void) | undefined;
    args[1] = function (this: unknown, ...a: unknown[]) {
      note(`play publish ${msg.topic} handed to every subscriber at=${wall()}`);
      return cb?.apply(this, a);
    };
  }
  return doBefore.apply(this, args);
};

// SQLite transactions longer than 50 ms (better-sqlite3 is what drizzle runs on)
const Database = require('better-sqlite3') as { prototype: { transaction: (fn: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown } };
const origTx = Database.prototype.transaction;
Database.prototype.transaction = function (this: unknown, fn: (...a: unknown[]) => unknown) {
  const wrapped = origTx.call(this, fn) as ((...a: unknown[]) => unknown) & Record<string, unknown>;
  const timed = function (this: unknown, ...a: unknown[]) {
    const t = performance.now();
    try {
      return wrapped.apply(this, a);
    } finally {
      const ms = performance.now() - t;
      if (ms > 50) note(`sqlite transaction ${ms.toFixed(1)} ms ended at=${wall()}`);
    }
  };
  for (const k of ['deferred', 'immediate', 'exclusive', 'database']) if (k in wrapped) (timed as unknown as Record<string, unknown>)[k] = wrapped[k];
  return timed;
};

// the event loop stalling: a 10 ms timer that fires more than 150 ms late
let tick = performance.now();
setInterval(() => {
  const t = performance.now();
  const late = t - tick - 10;
  if (late > 150) note(`event loop stalled ${late.toFixed(0)} ms, until at=${wall()}`);
  tick = t;
}, 10).unref();
