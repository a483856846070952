import type { ProgrammeInput } from '../api/client.ts';
import type { Recurrence } from '../../../schemas/api/recurrence.ts';
import { getLocale, t } from '../i18n/index.ts';
import { vi, type Dict } from '../i18n/vi.ts';
import { en } from '../i18n/en.ts';
import { parseDate, parseTime, pad } from '../i18n/time.ts';

/**
 * The programme editor's draft: flat, as typed (dates dd/MM/yyyy, days as "1, 15"), so it survives in localStorage
 * whatever state it is in; `toInput` turns it into the API's ProgrammeInput or names the fields to fix.
 */
/** The dictionary of the words functions (recurrence-words.ts takes it rather than reading the locale itself). */
export const dict = (): Dict => (getLocale() === 'en' ? en : vi);

export type RecKind = 'once' | 'daily' | 'weekly' | 'monthly' | 'lunar' | 'rrule';
export interface ItemDraft {
  kind: 'tts' | 'content' | 'playlist' | 'relay';
  text: string;
  contentId: string;
  contentIds: string[];
  /** relay: the source and how long, in minutes as typed (older drafts lack them) */
  sourceId?: string;
  durationMin?: string;
}
export interface ExceptionDraft {
  date: string;
  move: boolean;
  moveDate: string;
  moveTime: string;
}

/** Timetable colours, each dark enough to read as a 6 px stripe beside text and distinct for a colour-blind eye. */
export const PALETTE = ['#0b4f6c', '#1e6b24', '#8a5a00', '#7a1f5c', '#b00020', '#3d3d9e', '#00695c', '#5d4037'];

export const EMPTY_PROGRAMME = {
  name: '',
  areaId: '',
  colour: PALETTE[0],
  areaIds: [] as string[],
  clusterIds: [] as string[],
  level: 'normal' as 'normal' | 'priority',
  items: [{ kind: 'tts', text: '', contentId: '', contentIds: [] }] as ItemDraft[],
  time: '',
  rec: 'daily' as RecKind,
  onceDate: '',
  weekdays: [1, 2, 3, 4, 5] as number[],
  monthDays: '1',
  lunarDays: '1, 15',
  lunarMonths: [] as number[],
  leapMonths: true,
  rule: '',
  from: '',
  until: '',
  exceptions: [] as ExceptionDraft[],
  volume: '',
  onClash: '' as '' | 'shift' | 'first',
  onQuiet: '' as '' | 'move',
};
export type ProgrammeDraft = typeof EMPTY_PROGRAMME;

export const newItem = (kind: ItemDraft['kind']): ItemDraft => ({ kind, text: '', contentId: '', contentIds: kind === 'playlist' ? ['', ''] : [], ...(kind === 'relay' ? { sourceId: '', durationMin: '60' } : {}) });

/** An item nothing has been typed or chosen into yet (replaced without asking when a relay takes the programme). */
export const isBlankItem = (it: ItemDraft) => !it.text.trim() && !it.contentId && !it.contentIds.some(Boolean) && !it.sourceId;

/** dd/MM/yyyy (as typed) → 'YYYY-MM-DD'; null when not a real date. */
export function isoDate(s: string): string | null {
  const d = parseDate(s);
  return d ? `${d.y}-${pad(d.M)}-${pad(d.d)}` : null;
}
const typed = (iso: string | undefined) => (iso ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : '');
const hhmm = (s: string) => {
  const x = parseTime(s);
  return x ? `${pad(x.h)}:${pad(x.m)}` : null;
};

/** "1, 15" or "1 15" or "1;15" → [1, 15]; null if any part is not a day in [1, max]. */
export function parseDays(s: string, max: number): number[] | null {
  const parts = s.split(/[\s,;.]+/).filter(Boolean);
  if (!parts.length) return null;
  const days = parts.map(Number);
  if (days.some((n) => !Number.isInteger(n) || n < 1 || n > max)) return null;
  return [...new Set(days)].sort((a, b) => a - b);
}

function recurrence(f: ProgrammeDraft, err: Record<string, string>): Recurrence | null {
  switch (f.rec) {
    case 'once': {
      const date = isoDate(f.onceDate);
      if (!date) return (err.onceDate = t(f.onceDate.trim() ? 'v_date' : 'v_required')), null;
      return { kind: 'once', date };
    }
    case 'daily':
      return { kind: 'daily' };
    case 'weekly':
      if (!f.weekdays.length) return (err.weekdays = t('prog.v_weekdays')), null;
      return { kind: 'weekly', weekdays: [...f.weekdays].sort((a, b) => a - b) };
    case 'monthly': {
      const days = parseDays(f.monthDays, 31);
      if (!days) return (err.monthDays = t('prog.v_days', { max: 31 })), null;
      return { kind: 'monthly', days };
    }
    case 'lunar': {
      const days = parseDays(f.lunarDays, 30);
      if (!days) return (err.lunarDays = t('prog.v_days', { max: 30 })), null;
      return { kind: 'lunar', days, ...(f.lunarMonths.length ? { months: [...f.lunarMonths].sort((a, b) => a - b) } : {}), ...(f.leapMonths ? {} : { leapMonths: false }) };
    }
    case 'rrule':
      if (f.rule.trim().length < 6) return (err.rule = t('v_required')), null;
      if (!f.from.trim()) err.from = t('prog.v_ruleFrom');
      return { kind: 'rrule', rule: f.rule.trim().replace(/^RRULE:/i, '') };
  }
}

/** The body to preview or save, or the fields to fix first (field name → message). */
export function toInput(f: ProgrammeDraft): { body?: ProgrammeInput; errors: Record<string, string> } {
  const err: Record<string, string> = {};
  if (!f.name.trim()) err.name = t('v_required');
  if (!f.areaId) err.areaId = t('v_required');
  const time = hhmm(f.time);
  if (!time) err.time = t(f.time.trim() ? 'v_time' : 'v_required');
  const rec = recurrence(f, err);
  const from = f.from.trim() ? isoDate(f.from) : undefined;
  const until = f.until.trim() ? isoDate(f.until) : undefined;
  if (from === null) err.from = t('v_date');
  if (until === null) err.until = t('v_date');
  if (from && until && until < from) err.until = t('prog.v_untilBeforeFrom');
  const items: ProgrammeInput['items'] = [];
  f.items.forEach((it, i) => {
    if (it.kind === 'tts') it.text.trim() ? items.push({ type: 'tts', text: it.text, chime: true }) : (err['item' + i] = t('v_required'));
    else if (it.kind === 'content') it.contentId ? items.push({ type: 'content', contentId: it.contentId }) : (err['item' + i] = t('prog.v_pickRecording'));
    else if (it.kind === 'relay') {
      const min = Number(String(it.durationMin ?? '').replace(',', '.'));
      if (!it.sourceId) err['item' + i] = t('relay.v_pick');
      else if (!(min >= 1 && min <= 360)) err['item' + i] = t('relay.v_duration', { min: 1 });
      else items.push({ type: 'relay', sourceId: it.sourceId, durationS: Math.round(min * 60) });
    }
    else {
      const ids = it.contentIds.filter(Boolean);
      ids.length ? items.push({ type: 'playlist', contentIds: ids }) : (err['item' + i] = t('prog.v_pickRecording'));
    }
  });
  if (!f.items.length) err.items = t('prog.v_noItems');
  if (f.items.length > 1 && f.items.some((it) => it.kind === 'relay')) err.items = t('relay.onlyItem');
  const exceptions = f.exceptions.map((x, i) => {
    const date = isoDate(x.date);
    if (!date) err['exc' + i] = t('v_date');
    if (!x.move) return { date: date ?? '' };
    const moveDate = isoDate(x.moveDate);
    const moveTime = hhmm(x.moveTime);
    if (!moveDate || !moveTime) err['exc' + i] = t(!moveDate ? 'v_date' : 'v_time');
    return { date: date ?? '', moveTo: { date: moveDate ?? '', time: moveTime ?? '' } };
  });
  const volume = f.volume.trim() === '' ? undefined : Number(f.volume);
  if (volume !== undefined && !(Number.isInteger(volume) && volume >= 0 && volume <= 100)) err.volume = t('v_lte', { n: 100 });
  if (Object.keys(err).length || !rec || !time) return { errors: err };
  const targets = f.clusterIds.length ? { clusterIds: f.clusterIds } : { areaIds: f.areaIds.length ? f.areaIds : [f.areaId] };
  const body: ProgrammeInput = {
    name: f.name.trim(),
    areaId: f.areaId,
    colour: f.colour,
    targets,
    level: f.level,
    items,
    schedule: { recurrence: rec, time, ...(from ? { from } : {}), ...(until ? { until } : {}), ...(exceptions.length ? { exceptions } : {}) },
    ...(volume !== undefined ? { volume } : {}),
    ...(f.onClash ? { onClash: f.onClash } : {}),
    ...(f.onQuiet ? { onQuietHours: f.onQuiet } : {}),
  };
  return { body, errors: {} };
}

/** A saved programme back into the editor's draft (editing starts from the version awaiting approval, else the live one). */
export function fromInput(b: ProgrammeInput): ProgrammeDraft {
  const r = b.schedule.recurrence;
  const items: ItemDraft[] = b.items.map((it) =>
    it.type === 'tts' ? { ...newItem('tts'), text: it.text } : it.type === 'content' ? { ...newItem('content'), contentId: it.contentId } : it.type === 'playlist' ? { ...newItem('playlist'), contentIds: [...it.contentIds] } : { ...newItem('relay'), sourceId: it.sourceId, durationMin: String(Math.round(it.durationS / 6) / 10) },
  );
  return {
    ...EMPTY_PROGRAMME,
    name: b.name,
    areaId: b.areaId,
    colour: b.colour ?? PALETTE[0],
    areaIds: b.targets.areaIds ?? [],
    clusterIds: b.targets.clusterIds ?? [],
    level: b.level,
    items,
    time: b.schedule.time,
    rec: r.kind,
    onceDate: r.kind === 'once' ? typed(r.date) : '',
    weekdays: r.kind === 'weekly' ? r.weekdays : EMPTY_PROGRAMME.weekdays,
    monthDays: r.kind === 'monthly' ? r.days.join(', ') : EMPTY_PROGRAMME.monthDays,
    lunarDays: r.kind === 'lunar' ? r.days.join(', ') : EMPTY_PROGRAMME.lunarDays,
    lunarMonths: r.kind === 'lunar' ? r.months ?? [] : [],
    leapMonths: r.kind === 'lunar' ? r.leapMonths !== false : true,
    rule: r.kind === 'rrule' ? r.rule : '',
    from: typed(b.schedule.from),
    until: typed(b.schedule.until),
    exceptions: (b.schedule.exceptions ?? []).map((x) => ({ date: typed(x.date), move: !!x.moveTo, moveDate: typed(x.moveTo?.date), moveTime: x.moveTo?.time ?? '' })),
    volume: b.volume === undefined ? '' : String(b.volume),
    onClash: b.onClash === 'shift' || b.onClash === 'first' ? b.onClash : '',
    onQuiet: b.onQuietHours === 'move' ? 'move' : '',
  };
}

/** The server's field path ('body/schedule/recurrence/days') → the editor's field name. */
export function fieldOf(path: string, f: ProgrammeDraft): string {
  const s = path.replace(/^body\//, '');
  const m = s.match(/^items\/(\d+)/);
  if (m) return 'item' + m[1];
  const x = s.match(/^schedule\/exceptions\/(\d+)/);
  if (x) return 'exc' + x[1];
  if (s.startsWith('schedule/recurrence')) return { once: 'onceDate', daily: 'rec', weekly: 'weekdays', monthly: 'monthDays', lunar: 'lunarDays', rrule: 'rule' }[f.rec];
  if (s.startsWith('schedule/')) return s.split('/')[1];
  return s.split('/')[0];
}
