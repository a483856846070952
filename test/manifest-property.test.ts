import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CLUSTERS, buildFleet, command, removeFleet, runSequence, type Fleet } from './helpers/store-forward-commands.ts';

/**
 * Issue 8 §3: store-and-forward never loses an item. Random sequences of broadcasts (areas, clusters, single outputs;
 * created, cancelled, expired, due beyond the 48 h window), link loss, reboots with and without the stored manifest,
 * server restarts, and the broker's deliveries in any interleaving; at the end, every cluster online and the exchange
 * settled, each cluster holds exactly the live items the server's manifest has for it. Along the way the versions
 * sent to a cluster never go back and never stand for two different manifests, and a device's version never goes
 * back (helpers/store-forward-model.ts).
 *
 * Server side: the real services (BroadcastsService → Delivery → ManifestService) over a real SQLite file, a fake
 * clock, a server restart being new services on the same file. Device side: the simulator's real Playback (manifest
 * store, group play orders) per cluster.
 *
 * The devices here subscribe their groups on every connect, from the configuration they hold (§10.2), and keep that
 * configuration when their stored manifest is lost. Every cluster has connected once before the sequence starts.
 */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await buildFleet();
}, 60_000);
afterAll(() => removeFleet(fleet));

describe('store-and-forward (property)', () => {
  it('every cluster ends up holding exactly its live manifest, whatever happened on the way', async () => {
    const o = { groupsOnConnect: true, flashLossWipesConfig: false, fresh: false };
    await fc.assert(
      fc.asyncProperty(fc.subarray(CLUSTERS), fc.array(command, { minLength: 1, maxLength: 30 }), (online, cmds) => runSequence(fleet, o, online, cmds)),
      { numRuns: 120 },
    );
  }, 120_000);
});
