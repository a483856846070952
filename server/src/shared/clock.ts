/** Time is injected everywhere so presence timeouts, expiries and retention are testable with fake time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
