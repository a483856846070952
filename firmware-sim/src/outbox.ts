/**
 * QoS 1 messages the device must not lose: events, command replies and airing reports. An item leaves only when the broker has
 * acknowledged it, so anything caught by a dropped connection is simply sent again after the next connect with its
 * original payload (the server de-duplicates by id). Events and airing reports are each capped like a device's flash
 * ring buffer.
 *
 * At most `maxInflight` (10, per the catalog) are unacknowledged at once: the server's broker authorises a whole
 * TCP read at once against a 20/s allowance and cuts off a client that gets 100 publishes ahead, which a device
 * flushing 500 buffered events in one go would do.
 */
export interface OutboxItem {
  kind: 'event' | 'reply' | 'airing';
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
  private airingCount = 0;
  private inflightCount = 0;
  private gen = 0;
  private sender: Sender | null = null;
  /** Events discarded because the ring was full (oldest first). */
  overflowed = 0;
  /** Airing reports discarded because their ring was full (oldest first). */
  airingsOverflowed = 0;
  /** Most items ever unacknowledged at once (for tests and diagnostics). */
  maxSeenInflight = 0;

  constructor(
    readonly eventCap = 500,
    readonly replyCap = 100,
    readonly maxInflight = 10,
    readonly airingCap = 500,
  ) {}

  add(kind: OutboxItem['kind'], topic: string, payload: Buffer, onAck?: () => void): void {
    this.items.push({ kind, topic, payload, inflight: 0, onAck });
    if (kind === 'event') this.eventCount++;
    if (kind === 'airing') this.airingCount++;
    if (kind === 'event' && this.eventCount > this.eventCap) this.evictOldest('event');
    if (kind === 'airing' && this.airingCount > this.airingCap) this.evictOldest('airing');
    if (kind === 'reply' && this.items.length - this.eventCount - this.airingCount > this.replyCap) this.evictOldest('reply');
  }

  /** Send waiting items, oldest first, on connection generation `gen`; acknowledgements pull the next ones. */
  flush(gen: number, send: Sender): void {
    if (gen !== this.gen) this.resetInflight();
    this.gen = gen;
    this.sender = send;
    this.pump();
  }

  private pump(): void {
    const send = this.sender;
    const gen = this.gen;
    if (!send) return;
    // A snapshot: acknowledgements may arrive synchronously and splice the live array.
    for (const item of [...this.items]) {
      if (this.inflightCount >= this.maxInflight) return;
      if (item.inflight) continue;
      item.inflight = gen;
      this.inflightCount++;
      this.maxSeenInflight = Math.max(this.maxSeenInflight, this.inflightCount);
      send(item, (ok) => {
        if (item.inflight === gen) {
          item.inflight = 0;
          this.inflightCount--;
        }
        if (!ok) return; // retried at the next flush, not in a tight loop on a lossy link
        if (this.remove(item)) item.onAck?.();
        if (gen === this.gen) this.pump();
      });
    }
  }

  /** The connection died: nothing is in flight any more, and nothing is sent until the next flush. */
  resetInflight(): void {
    for (const item of this.items) item.inflight = 0;
    this.inflightCount = 0;
    this.sender = null;
  }

  get size(): number {
    return this.items.length;
  }

  get events(): number {
    return this.eventCount;
  }

  get airings(): number {
    return this.airingCount;
  }

  /** Payloads waiting or in flight, oldest first. */
  peek(kind?: OutboxItem['kind']): Buffer[] {
    return this.items.filter((i) => !kind || i.kind === kind).map((i) => i.payload);
  }

  private remove(item: OutboxItem): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    if (item.kind === 'event') this.eventCount--;
    if (item.kind === 'airing') this.airingCount--;
    return true;
  }

  private evictOldest(kind: OutboxItem['kind']): void {
    const i = this.items.findIndex((x) => x.kind === kind);
    if (i < 0) return;
    const [gone] = this.items.splice(i, 1);
    if (gone.inflight) {
      // Its acknowledgement may still come; stop counting it so the window is not held by a discarded item.
      gone.inflight = 0;
      this.inflightCount--;
    }
    if (kind === 'event') {
      this.eventCount--;
      this.overflowed++;
    }
    if (kind === 'airing') {
      this.airingCount--;
      this.airingsOverflowed++;
    }
  }
}
