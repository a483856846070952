import ical from 'ical-generator';
import type { Timetable } from '../../../schemas/api/timetable.ts';

const LEVEL = { normal: 'Thường', priority: 'Ưu tiên', emergency: 'Khẩn cấp' } as const;

/**
 * An area's timetable as iCalendar, for an officer's phone calendar. Instants are written in UTC (what the API
 * holds); the calendar shows them on the phone's clock, which in a commune is the commune's.
 */
export function timetableIcs(t: Timetable, name: string): string {
  const cal = ical({ name: `Lịch phát — ${name}`, prodId: { company: 'Loa Xa', product: 'timetable', language: 'VI' }, timezone: t.zone });
  for (const e of t.entries) {
    if (e.state === 'cancelled') continue;
    cal.createEvent({
      id: `${e.key}@loa-xa`,
      start: new Date(e.startAt),
      end: new Date(e.endAt),
      summary: e.title,
      description: `${LEVEL[e.level]} · ${e.clusters.targeted} cụm loa`,
    });
  }
  return cal.toString();
}
