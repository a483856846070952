import type { Status } from '../../../schemas/device-protocol/presence.ts';
import type { DeviceDirectory } from '../devices/directory.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import type { HealthStore } from './health.store.ts';

/**
 * Online/offline for every cluster from three signals: the broker session (connect, disconnect), the retained
 * status with its last will, and a server-side heartbeat timeout for links that die without a TCP reset.
 */
export class PresenceService {
  constructor(
    private store: HealthStore,
    private directory: DeviceDirectory,
    private bus: Bus,
    private clock: Clock,
    private timeoutMs: number,
  ) {}

  /** Any message from a device proves it is alive. */
  seen(clusterId: string, at = this.clock.now()): void {
    if (!this.directory.has(clusterId)) return;
    const h = this.store.get(clusterId);
    h.lastSeen = at;
    h.dirty = true;
    if (!h.online) this.set(clusterId, true, 'message', at);
  }

  status(clusterId: string, s: Status, at = this.clock.now()): void {
    if (s.state === 'online') this.seen(clusterId, at);
    else this.set(clusterId, false, 'last-will-or-goodbye', at);
  }

  disconnected(clusterId: string, at = this.clock.now()): void {
    this.set(clusterId, false, 'disconnect', at);
  }

  /** Marks silent clusters offline. Called on a timer; cost is one pass over memory. */
  sweep(at = this.clock.now()): string[] {
    const gone: string[] = [];
    for (const [id, h] of this.store.entries()) {
      if (h.online && (h.lastSeen ?? 0) + this.timeoutMs < at) {
        this.set(id, false, 'heartbeat-timeout', at);
        gone.push(id);
      }
    }
    return gone;
  }

  private set(clusterId: string, online: boolean, reason: string, at: number): void {
    const areaId = this.directory.areaOf(clusterId);
    if (!areaId) return;
    const h = this.store.get(clusterId);
    if (h.online === online) return;
    h.online = online;
    h.changedAt = at;
    h.dirty = true;
    h.urgent = true;
    this.bus.emit('cluster.status', { clusterId, areaId, online, at, reason });
  }
}
