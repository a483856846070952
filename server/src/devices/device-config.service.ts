import type { DeviceConfig } from '../../../schemas/device-protocol/config.ts';
import { deviceTopic } from '../../../schemas/device-protocol/topics.ts';
import type { Publisher } from '../mqtt/publisher.ts';
import type { Clock } from '../shared/clock.ts';
import type { DeviceDirectory } from './directory.ts';

export interface DeviceConfigDefaults {
  telemetryIntervalS: number;
  timeSyncIntervalS: number;
  emergencyVolume: number;
}

/**
 * Tells each device how to behave and which group topics to follow, on its retained `config` topic.
 * `version` is the second the content last changed, so it increases across server restarts too.
 */
export class DeviceConfigService {
  private sent = new Map<string, { json: string; version: number }>();

  constructor(
    private directory: DeviceDirectory,
    private publisher: Publisher,
    private clock: Clock,
    private defaults: DeviceConfigDefaults,
  ) {}

  configOf(clusterId: string): DeviceConfig {
    const content = { ...this.defaults, groups: this.directory.groupsOf(clusterId) };
    const json = JSON.stringify(content);
    const prev = this.sent.get(clusterId);
    let version = prev?.version ?? 0;
    if (!prev || prev.json !== json) version = Math.max(version + 1, Math.floor(this.clock.now() / 1000));
    this.sent.set(clusterId, { json, version });
    return { version, ...content };
  }

  async push(clusterId: string): Promise<void> {
    if (!this.directory.has(clusterId)) return;
    const cfg = this.configOf(clusterId);
    await this.publisher.publish(deviceTopic(clusterId, 'config'), Buffer.from(JSON.stringify(cfg)), { qos: 1, retain: true });
  }

  forget(clusterId: string): void {
    this.sent.delete(clusterId);
  }
}
