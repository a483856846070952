import { describe, expect, it } from 'vitest';
import { oneClusterCommune } from './helpers/services.ts';

async function setup() {
  const published: string[] = [];
  const f = await oneClusterCommune({ dirPrefix: 'loa-window-', serial: 'W1', publisher: { publish: async (topic) => void published.push(topic) } });
  return { ...f, published };
}

describe('playlists', () => {
  it('airs several items as one programme, joined in order', async () => {
    const { s, actor, clusterId, contentId, toneMs } = await setup();
    const b = await s.broadcasts.create({ title: 'Chuông và bản tin', level: 'normal', source: { items: [{ contentId }, { tts: { text: 'Kính mời bà con dự họp.' } }, { contentId }] }, targets: { clusterIds: [clusterId] } }, actor);
    const joined = await s.content.get(b.contentId!);
    expect(joined).toMatchObject({ source: 'playlist', state: 'ready' });
    const speech = (await s.content.list({ limit: 10, offset: 0 })).find((x) => x.source === 'tts')!;
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
    expect(await s.airings.planned(b.id)).toBe(false);
    expect((await s.manifests.delta(c.clusterId, 0)).items).toEqual([]);
    expect(await s.broadcasts.deliverDue()).toBe(0);

    clock.t += 2 * 3_600_000 + 1;
    expect(await s.broadcasts.deliverDue()).toBe(1);
    expect(await s.airings.planned(b.id)).toBe(true);
    expect((await s.manifests.delta(c.clusterId, 0)).items.map((i) => i.broadcastId)).toEqual([b.id]);
    expect(published).toContain(`loa/v1/dev/${c.clusterId}/manifest`);
    expect(await s.broadcasts.deliverDue()).toBe(0);
  }, 30_000);
});
