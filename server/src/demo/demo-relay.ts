import type { Services } from '../services.ts';
import { systemActor } from '../shared/actor.ts';

export const DEMO_SOURCE_NAME = 'Kênh thử (trên máy chủ)';

/**
 * The demo's relay source, pointing at the demo station on loopback (its port changes at every start), and a
 * relay programme at 11:00 every day so the timetable shows one. Made once; an officer's edits are kept, the URL
 * is brought up to date.
 */
export async function seedDemoRelay(s: Services, areaId: string, url: string): Promise<string> {
  const actor = systemActor('demo-seed');
  const existing = (await s.relaySources.list(actor, areaId)).find((r) => r.name === DEMO_SOURCE_NAME);
  if (existing) {
    await s.relaySources.update(existing.id, { primaryUrl: url }, actor);
    return existing.id;
  }
  const src = await s.relaySources.create({ areaId, name: DEMO_SOURCE_NAME, primaryUrl: url, stallS: 5, retryS: 15 }, actor);
  await s.programmes.create(
    {
      name: 'Tiếp sóng kênh thử',
      areaId,
      colour: '#8e24aa',
      targets: { areaIds: [areaId] },
      level: 'normal',
      items: [{ type: 'relay', sourceId: src.id, durationS: 15 * 60 }],
      schedule: { recurrence: { kind: 'daily' }, time: '11:00' },
      onClash: 'shift',
    },
    actor,
  );
  return src.id;
}
