/** Options and hooks of a cluster's ContentStore (content.ts), and the records its parts share. */
import type { ClientRequest } from 'node:http';
import type { SimCounters } from './cluster-types.ts';
import type { ContentCache } from './content-cache.ts';
import type { Cancel, Scheduler } from './scheduler.ts';
import type { Logger } from './types.ts';

export type ContentFetchMode = 'http' | 'assume';
export type DownloadFailure = 'hash_mismatch' | 'download_failed';

export interface ContentRetryOptions {
  /** First retry delay. Default 2000. */
  initialMs?: number;
  /** Longest retry delay. Default 60000. */
  maxMs?: number;
  /** ± fraction applied to each delay. Default 0.3. */
  jitter?: number;
}

/** What a ContentStore needs from its cluster. */
export interface ContentHooks {
  log: Logger;
  counters: SimCounters;
  /** Some item that has not expired still needs `sha`; otherwise retrying stops. */
  needed(sha: string): boolean;
  /** A download ended: verified (`ok`), or failed with a reason (a retry is scheduled if still needed). */
  result(sha: string, ok: boolean, reason?: DownloadFailure, detail?: string): void;
}

export interface ContentStoreOptions {
  clusterId: string;
  secret: string;
  mode: ContentFetchMode;
  /** Server base URL, e.g. http://127.0.0.1:8080. Required for mode 'http'. */
  httpUrl?: string;
  cache: ContentCache;
  sharedDownloads: boolean;
  assumeDelayMs: number;
  retry: Required<ContentRetryOptions>;
  /** Idle socket timeout per request. */
  timeoutMs: number;
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
  sched: Scheduler;
  random: () => number;
  /** The radio link is up (HTTP shares it with MQTT). */
  linkUp(): boolean;
}

/** One file being fetched, attempt after attempt, until it is verified or no longer needed. */
export interface Job {
  sha: string;
  size: number;
  attempt: number;
  timer: Cancel | null;
  req: ClientRequest | null;
  /** Bumped to disown the callbacks of an aborted attempt. */
  gen: number;
  /** Longest back-off next time (401: the credential will not fix itself). */
  slow: boolean;
}

/** A partial download ("temporary file"): what has arrived so far, kept for Range resume. */
export interface PartialFile {
  chunks: Buffer[];
  bytes: number;
}
