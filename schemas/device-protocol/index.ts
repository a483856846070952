export * from './topics.ts';
export * from './presence.ts';
export * from './telemetry.ts';
export * from './events.ts';
export * from './commands.ts';
export * from './time-sync.ts';
export * from './config.ts';
export * from './codec.ts';
export { CATALOG, type TopicSpec } from './catalog.ts';
