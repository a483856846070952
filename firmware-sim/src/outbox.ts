/**
 * QoS 1 messages the device must not lose: events and command replies. An item leaves only when the broker has
 * acknowledged it, so anything caught by a dropped connection is simply sent again after the next connect with its
 * original payload (the server de-duplicates by id). Events are capped like a device's flash ring buffer.
 */
export interface OutboxItem {
  kind: 'event' | 'reply';
  topic: string;
  payload: Buffer;
  /** Connection generation the item is in flight on, or 0 when waiting. */
  inflight: number;
  onAck?: () => void;
}

export type Sender = (item: OutboxItem, done: (ok: boolean) => void) => void;

export class Outbox {
  private items: OutboxItem[] = [];
  private eventCount = 0;
  /** Events discarded because the ring was full (oldest first). */
  overflowed = 0;

  constructor(
    readonly eventCap = 500,
    readonly replyCap = 100,
  ) {}

  add(kind: OutboxItem['kind'], topic: string, payload: Buffer, onAck?: () => void): void {
    this.items.push({ kind, topic, payload, inflight: 0, onAck });
    if (kind === 'event') this.eventCount++;
    if (kind === 'event' && this.eventCount > this.eventCap) this.evictOldest('event');
    if (kind === 'reply' && this.items.length - this.eventCount > this.replyCap) this.evictOldest('reply');
  }

  /** Send every waiting item, oldest first, on connection generation `gen`. */
  flush(gen: number, send: Sender): void {
    // A snapshot: acknowledgements may arrive synchronously and splice the live array.
    for (const item of [...this.items]) {
      if (item.inflight) continue;
      item.inflight = gen;
      send(item, (ok) => {
        if (ok && this.remove(item)) item.onAck?.();
        else if (item.inflight === gen) item.inflight = 0;
      });
    }
  }

  /** The connection died: nothing is in flight any more. */
  resetInflight(): void {
    for (const item of this.items) item.inflight = 0;
  }

  get size(): number {
    return this.items.length;
  }

  get events(): number {
    return this.eventCount;
  }

  /** Payloads waiting or in flight, oldest first (for tests and diagnostics). */
  peek(kind?: OutboxItem['kind']): Buffer[] {
    return this.items.filter((i) => !kind || i.kind === kind).map((i) => i.payload);
  }

  private remove(item: OutboxItem): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    if (item.kind === 'event') this.eventCount--;
    return true;
  }

  private evictOldest(kind: OutboxItem['kind']): void {
    const i = this.items.findIndex((x) => x.kind === kind);
    if (i < 0) return;
    this.items.splice(i, 1);
    if (kind === 'event') {
      this.eventCount--;
      this.overflowed++;
    }
  }
}
