import { describe, expect, it } from 'vitest';
import { loadConfig } from '../server/src/config.ts';
import { createDb } from '../server/src/db/client.ts';
import { createServices } from '../server/src/services.ts';
import { systemActor } from '../server/src/shared/actor.ts';
import { exampleTelemetry } from './helpers/device.ts';

/** Services against a fresh in-memory database with a fake clock: presence timing and retention without waiting. */
async function setup(env: Record<string, string> = {}) {
  const clock = { t: Date.parse('2026-11-24T08:00:00Z'), now() { return this.t; } };
  const published: { topic: string; payload: string; retain?: boolean }[] = [];
  const s = await createServices(loadConfig({ LOA_TELEMETRY_INTERVAL_S: '10', LOA_TELEMETRY_RETENTION_DAYS: '7', ...env }), createDb(':memory:'), clock, {
    publish: async (topic, payload, opts) => void published.push({ topic, payload: payload.toString(), retain: opts.retain }),
  });
  await s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune' });
  const [cred] = await s.clusters.create([{ name: 'C', areaId: 'xa', serial: 'S1', outputs: [{ index: 0, label: 'L' }] }], systemActor());
  return { s, clock, id: cred.clusterId, published };
}

describe('presence timing', () => {
  it('goes offline exactly after 2.5 telemetry intervals of silence', async () => {
    const { s, clock, id } = await setup();
    const changes: boolean[] = [];
    s.bus.on('cluster.status', (p) => changes.push(p.online));
    s.presence.seen(id);
    clock.t += 25_000;
    expect(s.presence.sweep()).toEqual([]);
    clock.t += 1;
    expect(s.presence.sweep()).toEqual([id]);
    expect(changes).toEqual([true, false]);
    expect(s.health.get(id).online).toBe(false);
  });

  it('ignores devices it does not know', async () => {
    const { s } = await setup();
    s.presence.seen('ghost-device');
    expect(s.health.peek('ghost-device')).toBeUndefined();
  });
});

describe('telemetry under overload', () => {
  it('holds at most LOA_TELEMETRY_MAX_BUFFERED rows between flushes, counts the rest as dropped and keeps the latest state', async () => {
    const { s, clock, id } = await setup({ LOA_TELEMETRY_MAX_BUFFERED: '100' });
    for (let i = 0; i < 250; i++) {
      clock.t += 1000;
      s.telemetry.ingest(id, { ...exampleTelemetry(), volume: i % 100 }, clock.now());
    }
    expect(s.telemetry.pending()).toBe(100);
    expect((await s.metrics.telemetryDropped.get()).values[0].value).toBe(150);
    expect(s.health.get(id).telemetry?.volume).toBe(249 % 100);
    expect(await s.telemetry.flush()).toBe(100);
    s.telemetry.ingest(id, exampleTelemetry(), clock.now());
    expect(s.telemetry.pending()).toBe(1);
  });
});

describe('telemetry retention', () => {
  it('prunes points older than the retention window and keeps the rest', async () => {
    const { s, clock, id } = await setup();
    for (let day = 0; day < 10; day++) {
      s.telemetry.ingest(id, exampleTelemetry(), clock.now());
      clock.t += 86_400_000;
    }
    await s.telemetry.flush();
    expect(await s.telemetry.prune(7)).toBe(3);
    const left = await s.telemetry.history(id, 0, clock.now(), 0);
    expect(left).toHaveLength(7);
    expect(Date.parse(left[0].t)).toBeGreaterThanOrEqual(clock.now() - 7 * 86_400_000);
  });

  it('writes the latest state with the time series in one flush', async () => {
    const { s, id } = await setup();
    s.presence.seen(id);
    s.telemetry.ingest(id, exampleTelemetry());
    expect(await s.telemetry.flush()).toBe(1);
    const row = s.db.sqlite!.prepare('select online, fault_count from cluster_state where cluster_id = ?').get(id) as any;
    expect(row).toEqual({ online: 1, fault_count: 1 });
    expect(await s.telemetry.flush()).toBe(0);
  });
});

describe('device configuration', () => {
  it('publishes retained config with groups, and bumps the version only when content changes', async () => {
    const { s, id, published } = await setup();
    await s.deviceConfig.push(id);
    await s.deviceConfig.push(id);
    const [a, b] = published.map((p) => JSON.parse(p.payload));
    expect(published[0]).toMatchObject({ topic: `loa/v1/dev/${id}/config`, retain: true });
    expect(a).toMatchObject({ telemetryIntervalS: 10, groups: ['a-xa'] });
    expect(b.version).toBe(a.version);
    await s.areas.create({ id: 'ap', name: 'Ấp', kind: 'hamlet', parentId: 'xa' });
    await s.clusters.update(id, { areaId: 'ap' }, systemActor());
    await s.deviceConfig.push(id);
    const c = JSON.parse(published.at(-1)!.payload);
    expect(c.groups).toEqual(['a-xa', 'a-ap']);
    expect(c.version).toBeGreaterThan(a.version);
  });
});

describe('events amend the latest state', () => {
  it('shows a mains loss and an output fault at once, and ignores events older than the last report', async () => {
    const { s, id, clock } = await setup();
    const t = exampleTelemetry();
    t.ts = clock.now();
    t.outputs = [{ index: 0, state: 'ok' }];
    s.telemetry.ingest(id, t);
    const health: string[][] = [];
    s.bus.on('cluster.health', (p) => health.push(p.faults));
    s.telemetry.applyEvent(id, { id: 'e1', ts: clock.now() + 1000, type: 'mains_lost', voltageV: 0 });
    s.telemetry.applyEvent(id, { id: 'e2', ts: clock.now() + 2000, type: 'output_fault', output: { index: 0, state: 'short' } });
    s.telemetry.applyEvent(id, { id: 'e0', ts: clock.now() - 5000, type: 'relay_tripped' });
    const h = s.health.get(id);
    expect(h.telemetry!.backup.active).toBe(true);
    expect(h.faults.sort()).toEqual(['mains-lost', 'output-0-short']);
    expect(health).toEqual([['mains-lost'], ['mains-lost', 'output-0-short']]);
    // the time series holds reports only
    expect(await s.telemetry.flush()).toBe(1);
  });
});
