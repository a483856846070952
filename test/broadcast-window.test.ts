import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../server/src/config.ts';
import { createDb } from '../server/src/db/client.ts';
import { runFfmpeg } from '../server/src/content/ffmpeg.ts';
import { createServices } from '../server/src/services.ts';
import { systemActor } from '../server/src/shared/actor.ts';

async function setup() {
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
  return { s, clock, published, actor, clusterId: c.clusterId, contentId: content.id, toneMs: content.durationMs! };
}

describe('playlists', () => {
  it('airs several items as one programme, joined in order', async () => {
    const { s, actor, clusterId, contentId, toneMs } = await setup();
    const b = await s.broadcasts.create({ title: 'Chuông và bản tin', level: 'normal', source: { items: [{ contentId }, { tts: { text: 'Kính mời bà con dự họp.' } }, { contentId }] }, targets: { clusterIds: [clusterId] } }, actor);
    const joined = s.content.get(b.contentId!);
    expect(joined).toMatchObject({ source: 'playlist', state: 'ready' });
    const speech = s.content.list({ limit: 10, offset: 0 }).find((x) => x.source === 'tts')!;
    // two tones, the speech, and 400 ms after each item
    expect(joined.durationMs).toBeGreaterThanOrEqual(2 * toneMs + speech.durationMs! + 1000);
    expect(joined.durationMs).toBeLessThanOrEqual(2 * toneMs + speech.durationMs! + 1400);
    const bad = s.broadcasts.create({ title: 'x', level: 'normal', source: { items: [{ contentId }, { contentId: 'khong-co' }] }, targets: { clusterIds: [clusterId] } }, actor);
    await expect(bad).rejects.toMatchObject({ statusCode: 404, field: 'body/source/items/1' });
  }, 60_000);
});

/** The 48-hour store-and-forward window, with a fake clock: far-off broadcasts reach devices as they come within it. */
describe('manifest window', () => {
  it('holds a broadcast due in 50 hours until it is 48 hours away, then delivers it', async () => {
    const { s, clock, published, actor, clusterId, contentId } = await setup();
    const c = { clusterId };
    const content = { id: contentId };

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
