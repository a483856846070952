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
