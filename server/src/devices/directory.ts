import { areaGroupId } from '../../../schemas/device-protocol/topics.ts';
import type { AreasService } from '../areas/areas.service.ts';
import { verifyDeviceSecret } from './credentials.ts';

interface Entry {
  areaId: string;
  secretHash: string | null;
  customGroups: string[];
}

/**
 * What the broker asks on every CONNECT, PUBLISH and SUBSCRIBE, answered from memory: is this secret right, where
 * does this cluster stand, which group topics may it follow. Kept in step by the registry service.
 */
export class DeviceDirectory {
  private entries = new Map<string, Entry>();

  constructor(private areas: AreasService) {}

  set(clusterId: string, entry: Entry): void {
    this.entries.set(clusterId, entry);
  }
  patch(clusterId: string, patch: Partial<Entry>): void {
    const e = this.entries.get(clusterId);
    if (e) Object.assign(e, patch);
  }
  delete(clusterId: string): void {
    this.entries.delete(clusterId);
  }
  has(clusterId: string): boolean {
    return this.entries.has(clusterId);
  }
  areaOf(clusterId: string): string | undefined {
    return this.entries.get(clusterId)?.areaId;
  }
  ids(): IterableIterator<string> {
    return this.entries.keys();
  }
  get size(): number {
    return this.entries.size;
  }

  /** Whether the cluster holds a credential now (neither deleted nor revoked). */
  hasCredential(clusterId: string): boolean {
    return !!this.entries.get(clusterId)?.secretHash;
  }

  authenticate(clusterId: string, secret: string): boolean {
    const e = this.entries.get(clusterId);
    return !!e?.secretHash && verifyDeviceSecret(secret, e.secretHash);
  }

  /** Every area above and including the cluster's own (province, commune, hamlet …) plus its custom groups. */
  groupsOf(clusterId: string): string[] {
    const e = this.entries.get(clusterId);
    if (!e) return [];
    return [...this.areas.ancestors(e.areaId).map(areaGroupId), ...e.customGroups];
  }
}
