import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.ts';
import type { Bus } from './bus.ts';

/** What instances keep of the registry and the area tree in memory, told to each other (docs/architecture.md §2). */
export interface SharedCaches {
  bus: Bus;
  /** re-reads these clusters from the database (all of them when null) */
  refreshClusters(ids: string[] | null): Promise<void>;
  reloadAreas(): Promise<void>;
  /** what was derived from both (the programme catalog's resolved targets) */
  invalidate(): void;
}

const CHANNEL = 'loa_changes';
/** PostgreSQL's payload limit is 8,000 bytes: a larger change is told as "everything". */
const MAX_IDS = 200;

type Told = { kind: 'clusters'; ids: string[] | null } | { kind: 'areas' };
type Change = Told & { from: string };

/**
 * Instances sharing a database hold copies of the registry (the device directory answers every CONNECT and
 * device request from memory) and of the area tree. A change made on one is notified — ids only, never a
 * secret — and every other instance re-reads those rows; a lost listening connection reloads everything (what
 * was notified meanwhile is gone). On SQLite there is one instance and nothing is sent. Returns the stop.
 */
export async function shareCaches(db: Db, c: SharedCaches, areasChanged: (listener: () => void) => void, onError: (err: unknown) => void): Promise<() => Promise<void>> {
  const me = randomUUID();
  const tell = (change: Told) => void db.notify(CHANNEL, JSON.stringify({ from: me, ...change })).catch(onError);
  const clusters = (ids: string[]) => tell({ kind: 'clusters', ids: ids.length > MAX_IDS ? null : ids });
  c.bus.on('registry.changed', ({ clusterIds }) => clusters(clusterIds));
  c.bus.on('device.revoked', ({ clusterId }) => clusters([clusterId]));
  areasChanged(() => tell({ kind: 'areas' }));

  // Applied one after another, in the order notified (areas before the clusters placed in them).
  let applying: Promise<unknown> = Promise.resolve();
  const apply = (fn: () => Promise<void>): void => {
    applying = applying.then(fn).then(() => c.invalidate()).catch(onError);
  };
  return db.listen(CHANNEL, (payload) => {
    if (payload === null) {
      apply(async () => {
        await c.reloadAreas();
        await c.refreshClusters(null);
      });
      return;
    }
    let change: Change;
    try {
      change = JSON.parse(payload) as Change;
    } catch (err) {
      onError(err);
      return;
    }
    if (change.from === me) return;
    if (change.kind === 'areas') apply(() => c.reloadAreas());
    else apply(() => c.refreshClusters(change.ids));
  });
}

const EVENTS = 'loa_events';
/**
 * The domain events consoles watch (SSE), and a command's reply an API call may be waiting for, that only the
 * instance where they happened sees: a device's telemetry, events, airing reports and replies reach one instance
 * (the shared subscription), an API call one, the leader's sweeps one. Not `cluster.status`: every instance reads
 * the status topic and tells it itself.
 */
export const SHARED_EVENTS = ['cluster.health', 'cluster.event', 'airing.report', 'broadcast.changed', 'programme.changed', 'live.changed', 'alarm.changed', 'command.reply'] as const;
type SharedEvent = (typeof SHARED_EVENTS)[number];

/**
 * Re-emits on `remote` (which the consoles' streams listen to beside the bus) the SHARED_EVENTS of the other
 * instances on the database; the bus itself never gets them, so nothing acts twice on one event. Only on
 * PostgreSQL: on SQLite there is no other instance. Returns the stop.
 */
export async function shareEvents(db: Db, bus: Bus, remote: Bus, onError: (err: unknown) => void): Promise<() => Promise<void>> {
  if (db.dialect !== 'postgres') return async () => undefined;
  const me = randomUUID();
  const offs = SHARED_EVENTS.map((name) =>
    bus.on(name, (p) => void db.notify(EVENTS, JSON.stringify({ from: me, name, p })).catch(onError)),
  );
  const stop = await db.listen(EVENTS, (payload) => {
    if (payload === null) return; // missed events are gone; the console reloads what it shows on its own
    try {
      const e = JSON.parse(payload) as { from: string; name: SharedEvent; p: never };
      if (e.from !== me && (SHARED_EVENTS as readonly string[]).includes(e.name)) remote.emit(e.name, e.p);
    } catch (err) {
      onError(err);
    }
  });
  return async () => {
    offs.forEach((off) => off());
    await stop();
  };
}
