import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimCluster, TickScheduler } from '../src/index.ts';
import { nextSlot } from '../src/scheduler.ts';
import { OUTPUTS, SECRET, TestBroker, sleep, waitFor } from './harness.ts';

let broker: TestBroker;
let c: SimCluster;
const ID = 'cum-dong-thanh-1';
const grp = (g: string) => `loa/v1/grp/${g}/cmd`;
const play = (g: string) => `loa/v1/grp/${g}/play`;

beforeEach(async () => {
  broker = await TestBroker.start();
  c = new SimCluster({ url: broker.url, id: ID, secret: SECRET, outputs: OUTPUTS, reconnectPeriodMs: 30 });
});
afterEach(async () => {
  await c.stop();
  await broker.close();
});

describe('configuration', () => {
  it('subscribes to the configured groups, follows changes, and unsubscribes removed ones', async () => {
    await c.start();
    await broker.sendConfig(ID, { version: 1, groups: ['a-dong-thanh', 'a-dt-ap-1'] });
    await waitFor(() => c.groups.length === 2, 2000, 'group subscriptions');
    expect(c.groups.sort()).toEqual(['a-dong-thanh', 'a-dt-ap-1']);
    // v1.1: `play` alongside `cmd` for every group.
    expect([...broker.subs.get(ID)!].filter((t) => t.includes('/grp/')).sort()).toEqual([grp('a-dong-thanh'), play('a-dong-thanh'), grp('a-dt-ap-1'), play('a-dt-ap-1')]);

    await broker.sendConfig(ID, { version: 2, groups: ['a-dong-thanh', 'a-dt-ap-2'] });
    await waitFor(() => broker.subs.get(ID)?.has(play('a-dt-ap-2')) && !broker.subs.get(ID)?.has(play('a-dt-ap-1')), 2000, 'changed groups');
    expect([...broker.subs.get(ID)!].filter((t) => t.includes('/grp/')).sort()).toEqual([grp('a-dong-thanh'), play('a-dong-thanh'), grp('a-dt-ap-2'), play('a-dt-ap-2')]);
    expect(c.config?.version).toBe(2);
  });

  it('resubscribes its groups after a reconnect (from the retained config) even though the version is unchanged', async () => {
    await c.start();
    await broker.sendConfig(ID, { version: 5, groups: ['a-dong-thanh'] });
    await waitFor(() => broker.subs.get(ID)?.has(grp('a-dong-thanh')), 2000, 'group subscription');
    c.reconnectStorm({ maxDelayMs: 10 });
    await waitFor(() => c.counters.connects === 2 && broker.subs.get(ID)?.has(grp('a-dong-thanh')), 3000, 'resubscription');
    expect(c.config?.version).toBe(5);
  });

  it('applies telemetryIntervalS from the configuration', async () => {
    // Virtual time on a shared scheduler: the 5 s minimum interval is checked without waiting 5 s.
    let skip = 0;
    const sched = new TickScheduler(10, () => Date.now() + skip);
    sched.start();
    const d = new SimCluster({ url: broker.url, id: 'cum-virtual', secret: SECRET, outputs: OUTPUTS, scheduler: sched });
    try {
      await d.start();
      await waitFor(() => broker.from('cum-virtual', 'telemetry').length === 1, 2000, 'telemetry on connect');
      await broker.sendConfig('cum-virtual', { version: 1, telemetryIntervalS: 5 });
      await waitFor(() => d.telemetryIntervalS === 5, 2000, 'interval applied');
      // Shared-scheduler slots are aligned to k·interval + phase (phase 0 here).
      const now = () => Date.now() + skip;
      const count = () => broker.from('cum-virtual', 'telemetry').length;
      let due = nextSlot(now(), 5000, 0);
      // Too close to observe "not yet": aim at the slot after, which lets one report through on the way.
      const passed = due - now() < 600 ? 1 : 0;
      if (passed) due += 5000;
      skip += due - now() - 300;
      await sleep(60);
      expect(count()).toBe(1 + passed);
      skip += 400;
      await waitFor(() => count() === 2 + passed, 2000, 'interval telemetry');
      skip += 5000;
      await waitFor(() => count() === 3 + passed, 2000, 'next interval telemetry');
      const seqs = broker.from('cum-virtual', 'telemetry').map((t) => t.json.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i));
    } finally {
      await d.stop();
      sched.stop();
    }
  });

  it('counts a refused group subscription and keeps the others', async () => {
    await c.start();
    broker.allowedGroups.set(ID, ['a-dong-thanh']);
    const cfg = { version: 1, telemetryIntervalS: 30, timeSyncIntervalS: 600, groups: ['a-dong-thanh', 'a-khac'], emergencyVolume: 100 };
    await broker.publish(`loa/v1/dev/${ID}/config`, cfg, { retain: true });
    // Both channels of the group are refused (cmd and play); the group counts as not granted.
    await waitFor(() => c.counters.subscribeRefused === 2, 2000, 'refusal');
    expect(c.groups).toEqual(['a-dong-thanh']);
    expect([...broker.subs.get(ID)!].filter((t) => t.includes('/grp/')).sort()).toEqual([grp('a-dong-thanh'), play('a-dong-thanh')]);
  });

  it('ignores malformed configuration without crashing and keeps the one it holds', async () => {
    await c.start();
    await broker.sendConfig(ID, { version: 1, groups: ['a-dong-thanh'] });
    await waitFor(() => c.config?.version === 1);
    await broker.publish(`loa/v1/dev/${ID}/config`, '{not json', { retain: true });
    await broker.publish(`loa/v1/dev/${ID}/config`, { version: 2, telemetryIntervalS: 1, timeSyncIntervalS: 600, groups: [], emergencyVolume: 50 });
    await broker.publish(`loa/v1/dev/${ID}/time/res`, { id: 'nope' });
    await broker.publish(`loa/v1/dev/${ID}/cmd`, Buffer.from([0xff, 0xfe, 0x00]));
    await waitFor(() => c.counters.malformed === 4, 2000, 'four malformed messages');
    expect(c.config?.version).toBe(1);
    expect(c.online).toBe(true);
    expect(c.groups).toEqual(['a-dong-thanh']);
  });
});
