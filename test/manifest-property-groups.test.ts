import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CLUSTERS, buildFleet, command, removeFleet, runSequence, type Cmd, type Fleet } from './helpers/store-forward-commands.ts';

/**
 * The store-and-forward property (manifest-property.test.ts) where a cluster's group subscription can come after
 * its birth is answered: a broadcast to its area in between reaches it neither on the group topic (not yet
 * subscribed) nor on its manifest topic (area clusters get no push), so it is missing until the cluster reconnects.
 */
let fleet: Fleet;
beforeAll(async () => {
  fleet = await buildFleet();
}, 60_000);
afterAll(() => removeFleet(fleet));

const sequences = fc.tuple(fc.subarray(CLUSTERS), fc.array(command, { minLength: 1, maxLength: 30 }));

describe('store-and-forward (property) while a cluster learns its groups', () => {
  it('holds for the simulator, which subscribes its groups only when a config message arrives', async () => {
    const o = { groupsOnConnect: false, flashLossWipesConfig: false, fresh: false };
    await fc.assert(fc.asyncProperty(sequences, ([online, cmds]) => runSequence(fleet, o, online, cmds)), { numRuns: 150 });
  }, 120_000);

  it('holds for a cluster that has no configuration yet (first connect, or flash lost)', async () => {
    const o = { groupsOnConnect: true, flashLossWipesConfig: true, fresh: true };
    await fc.assert(fc.asyncProperty(sequences, ([online, cmds]) => runSequence(fleet, o, online, cmds)), { numRuns: 150 });
  }, 120_000);

  it('a cancellation in the gap: the cluster keeps (and would air) a cancelled broadcast', async () => {
    // Cluster 0 (commune A) reboots; it holds its config, but the simulator subscribes its groups only once the
    // retained config message has arrived. Before that: a broadcast to commune A (the group order misses it), the
    // server answers its birth (the delta carries the item), the broadcast is cancelled (the group cancel misses it;
    // the tombstone is not pushed to clusters the group covers).
    const create: Cmd = { op: 'create', level: 'normal', areas: [1], clusters: [], outputs: [], startIn: 0, lastsMs: null, tone: 0, repeat: 1 };
    const o = { groupsOnConnect: false, flashLossWipesConfig: false, fresh: false };
    await runSequence(fleet, o, CLUSTERS, [{ op: 'reboot', c: 0, flashLost: false }, create, { op: 'serve', n: 1 }, { op: 'cancel', pick: 0 }]);
  }, 30_000);
});
