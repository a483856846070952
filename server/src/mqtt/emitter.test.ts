import { describe, expect, it } from 'vitest';
import { boundedEmitter } from './emitter.ts';

describe('bounded emitter', () => {
  it('drains a queue of 50,000 synchronously completing messages without growing the stack', () => {
    const mq = boundedEmitter(10);
    const held: (() => void)[] = [];
    mq.on('slow/+', (_p, done) => held.push(() => done()));
    // ten slow deliveries take every slot; the reports behind them have no subscriber and complete at once
    for (let i = 0; i < 10; i++) mq.emit({ topic: `slow/${i}` });
    let delivered = 0;
    for (let i = 0; i < 50_000; i++) mq.emit({ topic: `loa/v1/dev/c${i}/airing` }, () => delivered++);
    expect(mq.pending).toBe(50_000);
    expect(delivered).toBe(0);
    // the stock mqemitter recursed once per queued message here (RangeError: Maximum call stack size exceeded)
    expect(() => held.shift()!()).not.toThrow();
    expect(delivered).toBe(50_000);
    expect(mq.pending).toBe(0);
    expect(mq.inFlight).toBe(9);
  });

  it('keeps at most its limit in delivery and the rest in arrival order', () => {
    const mq = boundedEmitter(2);
    const held: (() => void)[] = [];
    const order: string[] = [];
    mq.on('t/+', (p: any, done) => {
      order.push(p.topic);
      held.push(() => done());
    });
    for (const n of ['a', 'b', 'c', 'd']) mq.emit({ topic: `t/${n}` });
    expect(order).toEqual(['t/a', 't/b']);
    expect(mq.inFlight).toBe(2);
    held.shift()!();
    expect(order).toEqual(['t/a', 't/b', 't/c']);
    while (held.length) held.shift()!();
    expect(order).toEqual(['t/a', 't/b', 't/c', 't/d']);
    expect(mq.inFlight).toBe(0);
  });
});
