/**
 * What arrives at a cluster, routed by topic (docs/device-protocol.md §5): its configuration, commands (own topic and
 * group topics), time-sync responses, the manifest and group play orders. Every payload is validated first; one
 * that fails (or whose handler throws) is counted, logged and ignored — a server bug never takes the device down.
 */
import { parseTopic, type CommandReply, type DeviceConfig, type PlayItem } from '../../schemas/device-protocol/index.ts';
import { codec, type CommandVia } from './cluster-types.ts';
import { ClusterLifecycle } from './cluster-lifecycle.ts';
import type { TimeSyncResult } from './time-sync.ts';

/** The id of a command that failed its schema, if it has one worth answering. */
function usableId(payload: Buffer): string | null {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : null;
  } catch {
    return null;
  }
}

export abstract class ClusterInbound extends ClusterLifecycle {
  protected onMessage(topic: string, payload: Buffer, lateMs = 0): void {
    try {
      const t = parseTopic(topic);
      if (t?.kind === 'group' && t.channel === 'play') {
        const d = codec.groupPlay.decode(payload);
        if (!d.ok) return this.malformed(topic, d.error);
        const bad = d.value.op === 'play' ? this.itemError(d.value.item) : null;
        if (bad) return this.malformed(topic, bad);
        return this.playback.onGroupPlay(d.value);
      }
      if (t?.kind === 'group') return this.onCommand(topic, payload, { via: 'group', groupId: t.groupId });
      if (t?.kind !== 'device' || t.clusterId !== this.id) return this.malformed(topic, 'topic outside the grammar');
      if (t.channel === 'cmd') return this.onCommand(topic, payload, { via: 'device' });
      if (t.channel === 'config') {
        const d = codec.config.decode(payload);
        return d.ok ? this.applyConfig(d.value) : this.malformed(topic, d.error);
      }
      if (t.channel === 'manifest') {
        const d = codec.manifest.decode(payload);
        if (!d.ok) return this.malformed(topic, d.error);
        const bad = d.value.items.map((i) => this.itemError(i)).find((e) => e !== null);
        if (bad) return this.malformed(topic, bad);
        return this.playback.onManifest(d.value);
      }
      if (t.channel === 'time/res') {
        const d = codec.timeRes.decode(payload);
        return d.ok ? this.timeSync.onResponse(d.value, lateMs) : this.malformed(topic, d.error);
      }
      this.malformed(topic, `unexpected channel ${t.channel}`);
    } catch (err) {
      // Never let a server bug take the device down.
      this.malformed(topic, `handler failed: ${(err as Error).message}`);
    }
  }

  /**
   * What the schema cannot say about a play item: exactly one of `content` and `stream`. A v1.1 device's schema
   * requires `content`, so an item without it fails validation there (the server keeps stream items from a cluster
   * whose birth declares no `stream` feature; a group order may still reach it) — and so the whole message, as
   * firmware validating the payload would.
   */
  private itemError(i: PlayItem): string | null {
    if (this.protocolMinor < 2) return i.content ? null : 'play item without content (stream items need protocol v1.2)';
    if (!i.content === !i.stream) return 'play item must have exactly one of content and stream';
    return null;
  }

  private malformed(topic: string, error: string): void {
    this.counters.malformed++;
    this.log.warn({ clusterId: this.id, topic, error }, 'ignored malformed message');
    this.emit('malformed', { topic, error });
  }

  private applyConfig(cfg: DeviceConfig): void {
    const prev = this.heldConfig;
    const changed = !prev || prev.version !== cfg.version;
    if (changed) {
      this.heldConfig = cfg;
      const intervalsChanged =
        !prev || prev.telemetryIntervalS !== cfg.telemetryIntervalS || prev.timeSyncIntervalS !== cfg.timeSyncIntervalS;
      if (intervalsChanged && this.isOnline) this.schedulePeriodic();
    }
    this.emit('config', cfg, changed);
    // Reconcile even for an unchanged version: subscriptions are per connection, the held config is not.
    this.groupSubs.reconcile(this.heldConfig!.groups);
  }

  private onCommand(topic: string, payload: Buffer, via: CommandVia): void {
    const d = codec.cmd.decode(payload);
    if (d.ok) return this.intake.receive(d.value, via);
    this.malformed(topic, d.error);
    // Answer what can be answered: with a usable id the server learns at once instead of waiting for expiry.
    const id = usableId(payload);
    if (id) {
      const reply: CommandReply = { id, result: 'rejected', reason: 'malformed', ts: this.clock.nowMs() };
      this.sendReply(Buffer.from(JSON.stringify(reply)), false);
    }
  }

  protected onTimeSynced(r: TimeSyncResult | null): void {
    this.syncSettled = true;
    if (r) this.lastOffset = r.offsetMs;
    if (r) this.syncedAt = this.clock.now();
    if (r) this.counters.timeSyncs++;
    else {
      this.counters.timeSyncFailures++;
      if (this.isOnline) {
        this.timers.timeSyncRetry?.();
        this.timers.timeSyncRetry = this.sched.after(30_000, () => this.timeSync.start());
      }
    }
    this.emit('timeSync', r);
    this.intake.releaseDeferred();
    this.playback.onOffset();
  }
}
