/** How services send to devices; part of the device link (device-link.ts), kept here for its many importers. */
export type { Publisher } from './device-link.ts';
