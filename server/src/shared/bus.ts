import { EventEmitter } from 'node:events';

/** Domain events, emitted by services and consumed by transports (SSE, metrics) without coupling them. */
export interface DomainEvents {
  'cluster.status': { clusterId: string; areaId: string; online: boolean; at: number; reason: string };
  'cluster.health': { clusterId: string; areaId: string; faults: string[]; onBattery: boolean; at: number };
  'cluster.event': { clusterId: string; areaId: string; type: string; ts: number; eventId: string };
  'command.reply': { clusterId: string; commandId: string; state: string; reason?: string };
  'device.revoked': { clusterId: string };
  /**
   * A secret was issued (provisioning, rotation), in plaintext: the only moment an external broker's account can be
   * given it (device-accounts.ts). In-process only; no transport forwards it.
   */
  'device.credential_issued': { clusterId: string; secret: string };
  'registry.changed': { clusterIds: string[] };
  'airing.report': { broadcastId: string; clusterId: string; seq: number; state: string };
  /** cause/by/createdBy when a person moved it (approval), so the sender can be told live. */
  'alarm.changed': { alarmId: string; clusterId: string; areaId: string; type: string; change: 'raised' | 'repeated' | 'cleared' | 'acknowledged'; at: number };
  'area.policy_changed': { areaId: string };
  /** a programme was saved, approved, rejected or deleted: the planner replans it within seconds */
  'programme.changed': { programmeId: string; areaId: string; name: string; change: 'submitted' | 'approved' | 'rejected' | 'deleted' | 'saved'; by?: string; byName?: string | null; createdBy?: string | null };
  /** a live stream started, switched input (failover) or ended (input null); sessionId/state for a microphone session */
  'live.changed': { streamId: string; kind: 'relay' | 'microphone'; sourceId: string | null; input: string | null; switch: { at: string; from: string; to: string; reason: string } | null; sessionId?: string; state?: string };
  'broadcast.changed': { broadcastId: string; state: string; cause?: 'submitted' | 'approved' | 'rejected'; by?: string; byName?: string | null; createdBy?: string | null };
}

export class Bus {
  private ee = new EventEmitter().setMaxListeners(1000);
  emit<K extends keyof DomainEvents>(name: K, payload: DomainEvents[K]): void {
    this.ee.emit(name, payload);
  }
  on<K extends keyof DomainEvents>(name: K, fn: (p: DomainEvents[K]) => void): () => void {
    this.ee.on(name, fn);
    return () => this.ee.off(name, fn);
  }
}
