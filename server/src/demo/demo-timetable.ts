import type { ProgrammeInput } from '../../../schemas/api/programmes.ts';
import type { Services } from '../services.ts';
import { systemActor } from '../shared/actor.ts';

/**
 * A commune's usual week for the demo (`npm start` with LOA_DEMO=1): the morning and afternoon sessions and the
 * notices of mùng 1 and rằm, so the timetable has something to show. Made once; an officer's edits are kept.
 */
const PROGRAMMES: Omit<ProgrammeInput, 'areaId' | 'targets'>[] = [
  {
    name: 'Bản tin sáng',
    colour: '#1e88e5',
    level: 'normal',
    items: [{ type: 'tts', text: 'Đài truyền thanh xã Đồng Thạnh xin kính chào bà con. Sau đây là bản tin sáng.', chime: true }],
    schedule: { recurrence: { kind: 'daily' }, time: '05:30' },
  },
  {
    name: 'Bản tin chiều',
    colour: '#43a047',
    level: 'normal',
    items: [{ type: 'tts', text: 'Đài truyền thanh xã Đồng Thạnh xin kính chào bà con. Sau đây là bản tin chiều.', chime: true }],
    schedule: { recurrence: { kind: 'weekly', weekdays: [1, 2, 3, 4, 5] }, time: '17:00' },
  },
  {
    name: 'Thông báo mùng 1 và rằm',
    colour: '#fb8c00',
    level: 'normal',
    items: [{ type: 'tts', text: 'Nhân ngày rằm và mùng một, Ủy ban nhân dân xã nhắc bà con giữ gìn vệ sinh và phòng chống cháy nổ.' }],
    schedule: { recurrence: { kind: 'lunar', days: [1, 15] }, time: '06:15' },
  },
];

export async function seedDemoTimetable(s: Services, areaId: string): Promise<number> {
  if ((await s.programmes.list({ areaId }, systemActor())).length) return 0;
  const actor = systemActor('demo-seed');
  for (const p of PROGRAMMES) await s.programmes.create({ ...p, areaId, targets: { areaIds: [areaId] }, onClash: 'shift' }, actor);
  return PROGRAMMES.length;
}
