import type { Occurrence, Programme, ProgrammeInput, ProgrammeVersion } from '../../../schemas/api/programmes.ts';
import { toLunar } from '../timetable/lunar.ts';
import { wallLabel } from '../timetable/recurrence.ts';
import type { ProgrammeRow, VersionRow } from './programmes.repo.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One instant as the officer reads it: solar date, time, weekday and the lunar date beside it. */
export function occurrenceView(at: number, zone: string, nominal = at): Occurrence {
  const w = wallLabel(at, zone);
  const l = toLunar(w.day.y, w.day.m, w.day.d);
  return { at: new Date(at).toISOString(), date: w.date, time: w.time, weekday: w.weekday, lunar: { day: l.day, month: l.month, year: l.year, leap: l.leap }, moved: at !== nominal };
}

export function versionView(v: VersionRow, name: (username: string) => string | null): ProgrammeVersion {
  return {
    version: v.version,
    state: v.state as ProgrammeVersion['state'],
    body: v.body as ProgrammeInput,
    contentId: v.contentId,
    durationMs: v.durationMs,
    createdBy: v.createdBy,
    createdByName: v.createdBy ? name(v.createdBy) : null,
    createdAt: iso(v.createdAt)!,
    approvedBy: v.approvedBy,
    approvedByName: v.approvedBy ? name(v.approvedBy) : null,
    approvedAt: iso(v.approvedAt),
    rejectReason: v.rejectReason,
  };
}

export function stateOf(p: ProgrammeRow, live: VersionRow | null, pending: VersionRow | null): Programme['state'] {
  if (p.deletedAt !== null) return 'deleted';
  if (live) return 'active';
  if (pending) return 'pending_approval';
  return 'rejected';
}
