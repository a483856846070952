import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// mqemitter is CommonJS without types; aedes takes any object with this shape as its `mq` option.
const mqemitter = require('mqemitter') as (o: { concurrency: number; matchEmptyLevels?: boolean }) => Emitter;

type Done = (err?: Error | null) => void;
type Notify = (packet: unknown, done: Done) => void;
interface Message {
  topic: string;
}
export interface Emitter {
  on(topic: string, notify: Notify, done?: () => void): unknown;
  removeListener(topic: string, notify: Notify, done?: () => void): unknown;
  emit(message: Message, cb?: Done): unknown;
  close(cb: () => void): unknown;
}

/**
 * aedes' message bus with at most `limit` messages being delivered at once, the rest waiting in arrival order.
 *
 * Why not mqemitter's own `concurrency`: its queue drains by recursion (released → _do → fastparallel → released …),
 * one stack level per queued message that completes synchronously. A device report has no subscriber, so it does
 * complete synchronously; 10,000 airing reports queued behind an emergency fan-out overflowed the stack and killed
 * the server (issue 8; mcollina/mqemitter#204, moscajs/aedes#193). Here the queue drains in a loop: however long it
 * is, the stack stays a few frames deep.
 */
export function boundedEmitter(limit: number): Emitter & { readonly pending: number; readonly inFlight: number } {
  const inner = mqemitter({ concurrency: 0, matchEmptyLevels: true });
  const queue: [Message, Done][] = [];
  let head = 0;
  let inFlight = 0;
  let draining = false;

  const run = (message: Message, cb: Done) => {
    inFlight++;
    inner.emit(message, (err) => {
      inFlight--;
      cb(err);
      drain();
    });
  };
  const drain = () => {
    if (draining) return; // the loop below is already running further up this stack
    draining = true;
    try {
      while (inFlight < limit && head < queue.length) {
        const [m, cb] = queue[head];
        queue[head++] = undefined as never;
        run(m, cb);
      }
      if (head === queue.length || head > 4096) {
        queue.splice(0, head);
        head = 0;
      }
    } finally {
      draining = false;
    }
  };

  return {
    on: (topic, notify, done) => inner.on(topic, notify, done),
    removeListener: (topic, notify, done) => inner.removeListener(topic, notify, done),
    close: (cb) => inner.close(cb),
    emit(message, cb = () => undefined) {
      if (inFlight < limit && head === queue.length) run(message, cb);
      else {
        queue.push([message, cb]);
        drain();
      }
      return this;
    },
    get pending() {
      return queue.length - head;
    },
    get inFlight() {
      return inFlight;
    },
  };
}
