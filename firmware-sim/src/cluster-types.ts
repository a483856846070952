/** Options, events and counters of a simulated cluster, and the payload codecs it speaks. */
import {
  BirthSchema,
  CommandReplySchema,
  CommandSchema,
  DeviceConfigSchema,
  DeviceEventSchema,
  StatusSchema,
  TelemetrySchema,
  TimeRequestSchema,
  TimeResponseSchema,
  payloadCodec,
  type Command,
  type CommandReply,
  type DeviceConfig,
  type DeviceEvent,
  type Telemetry,
} from '../../schemas/device-protocol/index.ts';
import type { DeviceClock } from './clock.ts';
import type { OutputSpec, PhysicsOptions } from './device-state.ts';
import type { Scheduler } from './scheduler.ts';
import type { TimeSyncOptions, TimeSyncResult } from './time-sync.ts';
import type { Logger } from './types.ts';

export type RebootReason = 'power_on' | 'watchdog' | 'command' | 'brownout' | 'firmware_update' | 'crash' | 'unknown';

export interface SimClusterOptions {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  id: string;
  secret: string;
  outputs: OutputSpec[];
  firmware?: string;
  hardware?: string;
  model?: string;
  serial?: string;
  clock?: DeviceClock;
  /** TLS trust for mqtts:// (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. Default 2000. */
  reconnectPeriodMs?: number;
  reconnectMaxMs?: number;
  /** ± fraction of each reconnect delay. Default 0.3. */
  reconnectJitter?: number;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  /** Telemetry interval until a configuration arrives. Default 30 (the contract's default). */
  telemetryIntervalS?: number;
  /** Time sync interval until a configuration arrives. Default 600. */
  timeSyncIntervalS?: number;
  timeSync?: TimeSyncOptions;
  /** Send one telemetry report right after each birth, before the first interval elapses. Default true. */
  telemetryOnConnect?: boolean;
  /** How long a reboot keeps the device off the network. Default 3000. */
  bootDelayMs?: number;
  /** Events kept while offline. Default 500 (the contract's minimum). */
  eventBuffer?: number;
  physics?: PhysicsOptions;
  logger?: Logger;
  /** Shared scheduler (SimFleet); a lone cluster uses Node timers. */
  scheduler?: Scheduler;
  /** Slot in [0,1) of each interval for periodic work under a shared scheduler. */
  phase?: number;
  random?: () => number;
}

export type CommandVia = { via: 'device' } | { via: 'group'; groupId: string };

export interface SimClusterEvents {
  connected: [];
  online: [];
  disconnected: [reason: string];
  connectError: [error: Error];
  config: [config: DeviceConfig, changed: boolean];
  groups: [groups: string[]];
  command: [command: Command, info: CommandVia & { duplicate: boolean }];
  executed: [command: Command];
  reply: [reply: CommandReply, info: { resent: boolean }];
  telemetry: [telemetry: Telemetry];
  event: [event: DeviceEvent];
  timeSync: [result: TimeSyncResult | null];
  malformed: [info: { topic: string; error: string }];
  rebooting: [reason: RebootReason];
  stopped: [];
}

export type SimClusterState = 'off' | 'booting' | 'connecting' | 'connected' | 'online';

export function newCounters() {
  return {
    boots: 0,
    connects: 0,
    disconnects: 0,
    connectErrors: 0,
    telemetrySent: 0,
    telemetrySkipped: 0,
    eventsRaised: 0,
    eventsSent: 0,
    repliesSent: 0,
    repliesResent: 0,
    commandsReceived: 0,
    commandsExecuted: 0,
    commandsExpired: 0,
    commandsRejected: 0,
    duplicates: 0,
    malformed: 0,
    subscribeRefused: 0,
    timeSyncs: 0,
    timeSyncFailures: 0,
  };
}
export type SimCounters = ReturnType<typeof newCounters>;

export const codec = {
  status: payloadCodec(StatusSchema),
  birth: payloadCodec(BirthSchema),
  config: payloadCodec(DeviceConfigSchema),
  cmd: payloadCodec(CommandSchema),
  reply: payloadCodec(CommandReplySchema),
  event: payloadCodec(DeviceEventSchema),
  telemetry: payloadCodec(TelemetrySchema),
  timeReq: payloadCodec(TimeRequestSchema),
  timeRes: payloadCodec(TimeResponseSchema),
};
