/** Units behind broadcasting: the per-direction time-sync estimator, the airing ring of the outbox, the content cache. */
import { describe, expect, it } from 'vitest';
import { ContentCache, DeviceClock, TimeSync, parseFault, type TimeSyncEstimator } from '../src/index.ts';
import { Outbox } from '../src/outbox.ts';
import { contenders, type Due } from '../src/airing-rules.ts';
import type { Held } from '../src/playback-types.ts';

/** A burst against a fake server whose clock is `theta` ahead of the device, with the given one-way delays. */
function burst(estimator: TimeSyncEstimator, legs: Array<[up: number, down: number]>, theta = 1000) {
  let t = 1_800_000_000_000;
  const clock = new DeviceClock({ trueNow: () => t, skewMs: -theta });
  let result: { offsetMs: number; rttMs: number } | null = null;
  let i = 0;
  const sync: TimeSync = new TimeSync(
    clock,
    (req) => {
      const [up, down] = legs[i++];
      t += up;
      const t1 = t; // the server stamps true time
      t += down;
      sync.onResponse({ id: req.id, t0: req.t0, t1, t2: t1 });
    },
    (r) => (result = r),
    { samples: legs.length, estimator },
  );
  sync.start();
  return result!;
}

describe('time sync estimators', () => {
  const legs: Array<[number, number]> = [
    [20, 150], // fast up, slow down
    [150, 22], // slow up, fast down
    [70, 80], // the smallest round trip, but 5 ms asymmetric
  ];
  it('min-rtt (default, the contract rule) takes the offset of the fastest exchange', () => {
    const r = burst('min-rtt', legs);
    expect(r.rttMs).toBe(150);
    expect(r.offsetMs).toBeCloseTo(1000 + (70 - 80) / 2, 6);
  });

  it('min-one-way combines the fastest leg of each direction: θ + (min up − min down) / 2, same rtt reported', () => {
    const r = burst('min-one-way', legs);
    expect(r.rttMs).toBe(150);
    expect(r.offsetMs).toBeCloseTo(1000 + (20 - 22) / 2, 6);
  });

  it('is exact with symmetric floors, whatever the jitter', () => {
    expect(burst('min-one-way', [[30, 90], [200, 30], [55, 55]]).offsetMs).toBeCloseTo(1000, 6);
  });
});

describe('outbox airing ring', () => {
  it('keeps at most airingCap reports, dropping the oldest, without touching events', () => {
    const o = new Outbox(500, 100, 10, 3);
    o.add('event', 'e', Buffer.from('e1'));
    for (let i = 1; i <= 5; i++) o.add('airing', 'a', Buffer.from(`a${i}`));
    expect(o.airings).toBe(3);
    expect(o.airingsOverflowed).toBe(2);
    expect(o.peek('airing').map(String)).toEqual(['a3', 'a4', 'a5']);
    expect(o.peek('event').map(String)).toEqual(['e1']);
  });
});

describe('content cache', () => {
  it('holds one buffer per sha256 for any number of holders and frees it with the last', () => {
    const cache = new ContentCache();
    const a = Buffer.from('first copy');
    cache.hold('x', a);
    cache.hold('x', Buffer.from('second copy'));
    cache.hold('y', null); // an assumed fetch: present, no bytes
    expect(cache.get('x')).toBe(a);
    expect(cache.files).toBe(2);
    expect(cache.bytes).toBe(a.length);
    cache.release('x');
    expect(cache.has('x')).toBe(true);
    cache.release('x');
    expect(cache.has('x')).toBe(false);
    expect(cache.has('y')).toBe(true);
  });
});

describe('fault grammar', () => {
  it('knows corrupt-download', () => {
    expect(parseFault('corrupt-download:10%')).toMatchObject({ fault: { kind: 'corrupt-download' }, selection: { fraction: 0.1 } });
  });
});

describe('who takes a free air (airing-rules.ts contenders)', () => {
  const due = (id: string, level: 'normal' | 'priority' | 'emergency', target: number, extra: { order?: number; maxWaitS?: number } = {}, arrival = 0): Due => ({
    h: { item: { id, level, ...extra }, arrival } as unknown as Held,
    seq: 0,
    target,
    resume: false,
  });
  const first = (ds: Due[], freeSince: number, s: number) => contenders(ds, freeSince, s)[0]!.h.item.id;

  it('a step that runs late decides as at the moment the first airing came due', () => {
    // The normal item was due at 400 with the air free; the priority came due 20 ms later and would have waited.
    const ds = [due('n', 'normal', 400), due('p', 'priority', 420), due('n2', 'normal', 420)];
    expect(first(ds, -Infinity, 470)).toBe('n');
    // Had the step run on time it would be the same; and once the air frees after both were due, the priority wins.
    expect(first(ds, -Infinity, 401)).toBe('n');
    expect(first(ds, 900, 900)).toBe('p');
  });

  it('an airing that would have taken the air anyway still does: an emergency, a priority out of patience', () => {
    expect(first([due('n', 'normal', 400), due('e', 'emergency', 420)], -Infinity, 470)).toBe('e');
    expect(first([due('n', 'normal', 400), due('p0', 'priority', 420, { maxWaitS: 0 })], -Infinity, 470)).toBe('p0');
    expect(first([due('n', 'normal', 400), due('p5', 'priority', 420, { maxWaitS: 5 })], -Infinity, 470)).toBe('n');
  });

  it('among airings due by the time the air freed, the level and `order` rules decide', () => {
    const ds = [due('p4', 'priority', 420), due('p3', 'priority', 450, { order: 1 }), due('p1', 'priority', 500, { order: 2 }), due('n2', 'normal', 420)];
    expect(contenders(ds, 900, 900).map((d) => d.h.item.id)).toEqual(['p3', 'p1', 'p4', 'n2']);
  });
});
