/** Loa Xã reference device simulator: device side of protocol v1.2 (v1.1 with live streams), single clusters and fleets. */
export { SimCluster, type SimClusterOptions, type LinkDownOptions, type LinkFlapOptions } from './sim-cluster.ts';
export {
  ClusterCore,
  newCounters,
  type SimClusterEvents,
  type SimClusterState,
  type SimCounters,
  type RebootReason,
  type CommandVia,
} from './cluster-core.ts';
export { DeviceClock, type DeviceClockOptions, type TimeSource } from './clock.ts';
export { DeviceState, BATTERY_LOW_PCT, OVERHEAT_C, type OutputFault, type OutputSpec, type PhysicsOptions, type Playing } from './device-state.ts';
export { Link, type Impairment, type NetworkOptions } from './link.ts';
export { TickScheduler, TimerScheduler, type Scheduler, type Cancel } from './scheduler.ts';
export { TimeSync, type TimeSyncEstimator, type TimeSyncOptions, type TimeSyncResult } from './time-sync.ts';
export { ContentCache, ContentStore, type ContentFetchMode, type ContentHooks, type ContentRetryOptions, type ContentStoreOptions, type DownloadFailure } from './content.ts';
export { Playback, type NowPlaying, type PlaybackOptions, type PlaybackRecord } from './playback.ts';
export type { StreamPageEvent } from './playback-types.ts';
export type { StreamStatsView } from './stream-stats.ts';
export { StreamTimeline, UnsupportedCodec, epochTag, packetSamples, pageSamples, type TimedPage } from './stream-timeline.ts';
export { silentLogger, type Logger } from './types.ts';
export type {
  AiringReport,
  Command,
  CommandReply,
  DeviceConfig,
  DeviceEvent,
  GroupPlay,
  Manifest,
  PlayItem,
  Telemetry,
} from '../../schemas/device-protocol/index.ts';
export { SimFleet, type SimFleetOptions, type FleetStats, type SimFleetEvents, type StartErrors } from './fleet.ts';
export { applyFault, parseFault, select, FAULT_GRAMMAR, type Fault, type Selection, type ParsedFault } from './faults.ts';
export { loadFleetFile, parseFleetFile, demoFleetPath, FleetFileError } from './fleet-file.ts';
