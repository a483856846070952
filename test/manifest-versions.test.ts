import { describe, expect, it } from 'vitest';
import type { Manifest } from '../schemas/device-protocol/playback.ts';
import { ManifestService } from '../server/src/broadcasts/manifest.service.ts';
import { ManifestsRepo } from '../server/src/broadcasts/manifests.repo.ts';
import { oneClusterCommune } from './helpers/services.ts';

/**
 * Issue 8 §3: the empty snapshot answering a new cluster's birth and the push of its first broadcast were both
 * version 1, so a cluster offline during that push reported version 1, got nothing, and never aired the item.
 */
async function setup() {
  const sent: { topic: string; m: Manifest }[] = [];
  const publisher = { publish: async (topic: string, payload: Buffer) => void (topic.endsWith('/manifest') && sent.push({ topic, m: JSON.parse(payload.toString()) })) };
  return { ...(await oneClusterCommune({ dirPrefix: 'loa-mver-', serial: 'MV1', publisher })), sent, publisher };
}

describe('manifest versions', () => {
  it('birth → first broadcast → reconnect: versions strictly increase, and a req at the current version is answered', async () => {
    const { s, sent, actor, clusterId, contentId } = await setup();
    // A new cluster's birth: the empty snapshot.
    await s.manifests.push(clusterId, 0);
    expect(sent).toHaveLength(1);
    const empty = sent[0].m;
    expect(empty).toMatchObject({ baseVersion: 0, items: [] });

    // Its first broadcast.
    const b = await s.broadcasts.create({ title: 'Bản tin', level: 'normal', source: { contentId }, targets: { clusterIds: [clusterId] } }, actor);
    await s.backlog.idle(); // the push to the cluster follows the answer
    const first = sent.at(-1)!.m;
    expect(first.items.map((i) => i.broadcastId)).toEqual([b.id]);
    expect(first.version).toBeGreaterThan(empty.version);

    // A cluster that missed that push reconnects holding the empty snapshot: it must get the item.
    sent.length = 0;
    await s.manifests.push(clusterId, empty.version);
    expect(sent).toHaveLength(1);
    expect(sent[0].m.items.map((i) => i.broadcastId)).toEqual([b.id]);
    expect(sent[0].m.version).toBe(first.version);

    // manifest/req at the current version: an explicit "you are current".
    sent.length = 0;
    await s.manifests.push(clusterId, first.version);
    expect(sent).toEqual([{ topic: `loa/v1/dev/${clusterId}/manifest`, m: { version: first.version, baseVersion: first.version, items: [], removed: [] } }]);

    // Cancelling moves on again.
    await s.broadcasts.cancel(b.id, actor);
    expect(await s.manifests.version(clusterId)).toBeGreaterThan(first.version);
  }, 30_000);

  it('keeps the version across a restart (a new service on the same db) and never reuses one', async () => {
    const { s, db, clock, publisher, clusterId } = await setup();
    await s.manifests.push(clusterId, 0);
    const v = await s.manifests.version(clusterId);
    expect(v).toBeGreaterThanOrEqual(1);
    const again = new ManifestService(new ManifestsRepo(db), publisher as any, clock);
    expect(await again.version(clusterId)).toBe(v);
    const item = { id: 'it-1', broadcastId: 'bc-1', level: 'normal' as const, content: { sha256: 'a'.repeat(64), size: 10, durationMs: 1000 }, startAt: null, expiresAt: clock.t + 3_600_000, volume: null, outputs: null, repeat: { count: 1, intervalS: 0 }, onPreempt: 'resume' as const };
    expect((await again.put([{ clusterId, item }])).get(clusterId)).toBe(v + 1);
    // A device claiming a version the server never sent (ahead) gets a snapshot above it.
    const ahead = await again.delta(clusterId, v + 10);
    expect(ahead).toMatchObject({ baseVersion: 0, version: v + 11 });
    expect(ahead.items.map((i) => i.id)).toEqual(['it-1']);
  }, 30_000);
});
