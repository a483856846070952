import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/src/config.ts';
import { createDb } from '../server/src/db/client.ts';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { createServices } from '../server/src/services.ts';
import { systemActor } from '../server/src/shared/actor.ts';

/** The 48-hour store-and-forward window, with a fake clock: far-off broadcasts reach devices as they come within it. */
describe('manifest window', () => {
  it('holds a broadcast due in 50 hours until it is 48 hours away, then delivers it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loa-window-'));
    const clock = { t: Date.parse('2026-11-24T01:00:00Z'), now() { return this.t; } };
    const published: string[] = [];
    const s = createServices(loadConfig({ LOA_DATA_DIR: dataDir }), createDb(':memory:'), clock, { publish: async (topic) => void published.push(topic) });
    const actor = systemActor('test');
    s.areas.create({ id: 'xa', name: 'Xã', kind: 'commune' });
    const [c] = s.clusters.create([{ name: 'Cụm', areaId: 'xa', serial: 'W1', outputs: [{ index: 0, label: 'Loa' }] }], actor);
    const wav = join(dataDir, 'tone.wav');
    await runFfmpeg(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', wav]);
    const content = await s.content.ingest(wav, { source: 'upload', originalName: 'tone.wav' }, actor);

    const b = await s.broadcasts.create({ title: 'Họp dân', level: 'normal', source: { contentId: content.id }, targets: { clusterIds: [c.clusterId] }, startAt: new Date(clock.t + 50 * 3_600_000).toISOString() }, actor);
    expect(b.state).toBe('scheduled');
    expect(s.airings.planned(b.id)).toBe(false);
    expect(s.manifests.delta(c.clusterId, 0).items).toEqual([]);
    expect(await s.broadcasts.deliverDue()).toBe(0);

    clock.t += 2 * 3_600_000 + 1;
    expect(await s.broadcasts.deliverDue()).toBe(1);
    expect(s.airings.planned(b.id)).toBe(true);
    expect(s.manifests.delta(c.clusterId, 0).items.map((i) => i.broadcastId)).toEqual([b.id]);
    expect(published).toContain(`loa/v1/dev/${c.clusterId}/manifest`);
    expect(await s.broadcasts.deliverDue()).toBe(0);
  }, 30_000);
});
