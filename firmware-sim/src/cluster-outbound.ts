/**
 * What a cluster publishes (docs/device-protocol.md §5): retained status, telemetry (QoS 0, only while online), and
 * the QoS 1 messages it must not lose — events, airing reports and command replies — through the outbox, which keeps
 * them until the broker acknowledges them and sends them oldest first once online again.
 */
import type { AiringReport, AiringState, CommandReply, DeviceEvent, Telemetry } from '../../schemas/device-protocol/index.ts';
import { ClusterBase } from './cluster-base.ts';
import { codec, type SimCounters } from './cluster-types.ts';
import type { StateEvent } from './device-state.ts';

const COUNTER_OF: Record<AiringState, keyof SimCounters> = {
  received: 'airingReceived',
  downloaded: 'airingDownloaded',
  started: 'airingStarted',
  interrupted: 'airingInterrupted',
  resumed: 'airingResumed',
  finished: 'airingFinished',
  failed: 'airingFailed',
  skipped: 'airingSkipped',
  cancelled: 'airingCancelled',
  underrun: 'airingUnderrun',
};

export abstract class ClusterOutbound extends ClusterBase {
  protected publishStatus(state: 'online' | 'offline', done?: () => void): void {
    const payload = codec.status.encode({ state, ts: this.clock.nowMs() });
    this.session.publish(this.topic('status'), payload, 1, true, () => done?.());
  }

  /** Build and send one telemetry report now (also what the interval timer does). */
  sendTelemetry(): Telemetry | null {
    this.raise(this.state.advance());
    if (!this.isOnline) {
      this.counters.telemetrySkipped++;
      return null;
    }
    const t: Telemetry = {
      ts: this.clock.nowMs(),
      seq: this.seq++,
      ...this.state.sample(),
      uptimeS: Math.floor((this.clock.trueNow() - this.bootTrue) / 1000),
      clockOffsetMs: this.timeSync.offsetMs === null ? null : Math.round(this.timeSync.offsetMs * 10) / 10,
    };
    this.session.publish(this.topic('telemetry'), codec.telemetry.encode(t), 0, false, (ok) => {
      if (ok) this.counters.telemetrySent++;
    });
    this.emit('telemetry', t);
    // Retry anything a flaky link refused since the last report.
    this.flushOutbox();
    return t;
  }

  /** Stamp state-change events with id and device time, queue them, and send if online. */
  protected raise(events: StateEvent[]): void {
    if (!events.length) return;
    for (const e of events) {
      const ev = { id: `e-${this.eventIdBase}-${(++this.eventSeq).toString(36)}`, ts: this.clock.nowMs(), ...e } as DeviceEvent;
      this.counters.eventsRaised++;
      this.outbox.add('event', this.topic('event'), codec.event.encode(ev), () => this.counters.eventsSent++);
      this.emit('event', ev);
    }
    this.flushOutbox();
  }

  /** Queue an airing report (proof of play): buffered offline like events, sent oldest first. */
  protected sendAiring(r: AiringReport): void {
    this.counters[COUNTER_OF[r.state]]++;
    this.outbox.add('airing', this.topic('airing'), codec.airing.encode(r), () => this.counters.airingReportsSent++);
    this.emit('airing', r);
    this.flushOutbox();
  }

  /** The manifest update could not be applied: ask for everything since `version`. Not buffered (birth says it). */
  protected requestManifest(version: number): void {
    this.counters.manifestRequests++;
    if (!this.isOnline) return;
    this.session.publish(this.topic('manifest/req'), codec.manifestReq.encode({ version }), 1, false);
  }

  protected sendReply(encoded: Buffer, resent: boolean, onAck?: () => void): void {
    if (resent) this.counters.repliesResent++;
    this.outbox.add('reply', this.topic('reply'), encoded, onAck);
    this.emit('reply', JSON.parse(encoded.toString()) as CommandReply, { resent });
    this.flushOutbox();
  }

  protected flushOutbox(): void {
    if (!this.isOnline) return;
    this.outbox.flush(this.session.gen, (item, done) => {
      this.session.publish(item.topic, item.payload, 1, false, (ok) => {
        if (ok && item.kind === 'reply') this.counters.repliesSent++;
        done(ok);
      });
    });
  }

  // ---- what is waiting -------------------------------------------------------------------------------------------

  /** Events not yet acknowledged by the broker (buffered while offline). */
  get pendingEvents(): DeviceEvent[] {
    return this.outbox.peek('event').map((b) => JSON.parse(b.toString()) as DeviceEvent);
  }
  get pendingEventCount(): number {
    return this.outbox.events;
  }
  get eventsOverflowed(): number {
    return this.outbox.overflowed;
  }
  /** Airing reports not yet acknowledged by the broker (buffered while offline). */
  get pendingAirings(): AiringReport[] {
    return this.outbox.peek('airing').map((b) => JSON.parse(b.toString()) as AiringReport);
  }
  get pendingAiringCount(): number {
    return this.outbox.airings;
  }
}
