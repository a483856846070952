/** Units behind broadcasting: the per-direction time-sync estimator, the airing ring of the outbox, the content cache. */
import { describe, expect, it } from 'vitest';
import { ContentCache, DeviceClock, TimeSync, parseFault, type TimeSyncEstimator } from '../src/index.ts';
import { Outbox } from '../src/outbox.ts';

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
