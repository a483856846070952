import { describe, expect, it } from 'vitest';
import { DeviceClock, Link, TickScheduler, parseFault, parseFleetFile, select } from '../src/index.ts';
import { nextSlot } from '../src/scheduler.ts';
import { Outbox } from '../src/outbox.ts';

describe('TickScheduler', () => {
  it('spreads N periodic tasks evenly across the interval on phase slots i/N', () => {
    let now = 1_000_000_000;
    const s = new TickScheduler(10, () => now);
    const runs: Array<{ task: number; at: number }> = [];
    for (let i = 0; i < 100; i++) s.every(1000, () => runs.push({ task: i, at: now }), i / 100);
    for (let t = 0; t < 3000; t += 10) {
      now += 10;
      s.tick();
    }
    expect(runs).toHaveLength(300);
    // Every 10 ms bucket of the interval holds exactly one run per interval: no bursts.
    const perBucket = new Map<number, number>();
    for (const r of runs) perBucket.set(Math.floor((r.at % 1000) / 10), (perBucket.get(Math.floor((r.at % 1000) / 10)) ?? 0) + 1);
    expect([...perBucket.values()].every((n) => n === 3)).toBe(true);
    expect(runs.filter((r) => r.task === 42).map((r) => r.at % 1000)).toEqual([420, 420, 420]);
  });

  it('does not replay missed runs after a stall, and honours cancel', () => {
    let now = 0;
    const s = new TickScheduler(10, () => now);
    let a = 0;
    let b = 0;
    s.every(100, () => a++);
    const cancelB = s.every(100, () => b++);
    const once: number[] = [];
    s.after(250, () => once.push(now));
    now = 1050; // a long stall
    s.tick();
    expect(a).toBe(1);
    cancelB();
    now = 1100;
    s.tick();
    expect([a, b]).toEqual([2, 1]);
    expect(once).toEqual([1050]);
    expect(nextSlot(1050, 100, 30)).toBe(1130);
  });
});

describe('DeviceClock', () => {
  it('applies skew and drift to the true time', () => {
    let t = 1_000_000;
    const c = new DeviceClock({ trueNow: () => t, skewMs: 500, driftPpm: 100 });
    expect(c.now()).toBe(1_000_500);
    t += 1_000_000; // 1000 s later the clock has gained 100 ms
    expect(c.now() - t).toBeCloseTo(600, 6);
    c.setDrift(0);
    t += 1_000_000;
    expect(c.errorMs()).toBeCloseTo(600, 6);
  });
});

describe('Link', () => {
  it('keeps FIFO order under jitter', async () => {
    const link = new Link();
    link.configure({ delayMs: 1, jitterMs: 20 });
    const got: number[] = [];
    await new Promise<void>((done) => {
      for (let i = 0; i < 30; i++) link.pass('up', 1, () => (got.push(i), got.length === 30 && done()));
    });
    expect(got).toEqual([...Array(30).keys()]);
  });

  it('merges impairments per direction', () => {
    const link = new Link();
    link.configure({ delayMs: 50, up: { jitterMs: 10 } });
    link.configure({ dropRate: 0.1 }, true);
    expect(link.impairment('up')).toMatchObject({ delayMs: 50, jitterMs: 10, dropRate: 0.1 });
    expect(link.impairment('down')).toMatchObject({ delayMs: 50, jitterMs: 0, dropRate: 0.1 });
  });
});

describe('Outbox', () => {
  it('evicts the oldest events past the cap and retries what was not acknowledged', () => {
    const box = new Outbox(3);
    for (let i = 0; i < 5; i++) box.add('event', 't', Buffer.from(String(i)));
    expect(box.overflowed).toBe(2);
    const sent: string[] = [];
    box.flush(1, (item, done) => (sent.push(item.payload.toString()), done(item.payload.toString() !== '3')));
    expect(box.peek().map(String)).toEqual(['3']);
    box.flush(2, (item, done) => (sent.push(item.payload.toString()), done(true)));
    expect(sent.at(-1)).toBe('3');
    expect(box.size).toBe(0);
  });

  it('keeps at most 10 unacknowledged, in order, and each acknowledgement releases the next', () => {
    const box = new Outbox();
    for (let i = 0; i < 25; i++) box.add('event', 't', Buffer.from(String(i)));
    const pending: Array<() => void> = [];
    const sent: number[] = [];
    const sender = (item: { payload: Buffer }, done: (ok: boolean) => void) => {
      sent.push(Number(item.payload));
      pending.push(() => done(true));
    };
    box.flush(1, sender);
    expect(sent).toEqual([...Array(10).keys()]);
    pending.shift()!();
    pending.shift()!();
    expect(sent).toHaveLength(12);
    box.add('reply', 'r', Buffer.from('99'));
    box.flush(1, sender);
    expect(sent).toHaveLength(12); // window full: the new reply waits its turn
    while (pending.length) pending.shift()!();
    expect(sent).toEqual([...Array(25).keys(), 99]);
    expect(box.maxSeenInflight).toBe(10);
    expect(box.size).toBe(0);
  });
});

describe('fault grammar', () => {
  it('parses selections, network parameters and timing', () => {
    expect(parseFault('mains-loss:10%')).toMatchObject({ fault: { kind: 'mains-loss' }, selection: { fraction: 0.1 }, afterMs: 0 });
    expect(parseFault('output-open:3')).toMatchObject({ fault: { kind: 'output-fault', fault: 'open' }, selection: { count: 3 } });
    expect(parseFault('link-flap:5%@1m')).toMatchObject({ fault: { kind: 'link-flap' }, selection: { fraction: 0.05 }, afterMs: 60_000 });
    expect(parseFault('reconnect-storm')).toMatchObject({ fault: { kind: 'reconnect-storm' }, selection: {} });
    expect(parseFault('overheat:2')).toMatchObject({ fault: { kind: 'overheat', tempC: 85 }, selection: { count: 2 } });
    expect(parseFault('jitter:20-200ms')).toMatchObject({ fault: { kind: 'network', network: { delayMs: 20, jitterMs: 180 } } });
    expect(parseFault('delay:150ms@500ms')).toMatchObject({ fault: { kind: 'network', network: { delayMs: 150 } }, afterMs: 500 });
    expect(parseFault('drop:5%')).toMatchObject({ fault: { kind: 'network', network: { dropRate: 0.05 } } });
  });

  it.each([
    ['meteor-strike', /unknown fault "meteor-strike"/],
    ['mains-loss:lots', /selection "lots"/],
    ['mains-loss:150%', /selection "150%"/],
    ['jitter:200-20ms', /jitter takes MIN-MAXms/],
    ['delay', /delay needs an argument/],
    ['kill@soon', /bad duration "soon"/],
  ])('rejects %s with a message saying why', (spec, msg) => {
    expect(() => parseFault(spec)).toThrow(msg);
  });

  it('selects without repeats', () => {
    const all = Array.from({ length: 50 }, (_, i) => ({ id: `c-${i}` }));
    const picked = select(all, { fraction: 0.3 });
    expect(new Set(picked).size).toBe(15);
    expect(select(all, { count: 80 })).toHaveLength(50);
    expect(select(all, { ids: ['c-3', 'c-9'] }).map((c) => c.id)).toEqual(['c-3', 'c-9']);
  });
});

describe('fleet file', () => {
  const member = { id: 'cum-a', secret: 'x'.repeat(22), outputs: [{ index: 0 }] };
  it('accepts a valid file', () => {
    expect(parseFleetFile(JSON.stringify({ clusters: [member] }), 'f.json').clusters).toHaveLength(1);
  });
  it.each([
    ['{', /f\.json: not valid JSON/],
    [JSON.stringify({ clusters: [{ ...member, secret: 'short' }] }), /f\.json: .*\/clusters\/0\/secret/],
    [JSON.stringify({ clusters: [member, member] }), /\/clusters\/1\/id: duplicate cluster id "cum-a"/],
    [JSON.stringify({ clusters: [{ ...member, outputs: [{ index: 1 }, { index: 1 }] }] }), /duplicate output index 1/],
  ])('rejects %s', (text, msg) => {
    expect(() => parseFleetFile(text, 'f.json')).toThrow(msg);
  });
});
