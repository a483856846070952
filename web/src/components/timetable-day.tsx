import type { Timetable, TimetableEntry } from '../api/client.ts';
import { t, type Key } from '../i18n/index.ts';
import { vi } from '../i18n/vi.ts';
import { reasonText } from '../i18n/codes.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { fmtDate, fmtTime, wall, type Wall } from '../i18n/time.ts';
import { navigate } from '../router.ts';
import { dict } from './programme-form.ts';
import { durationWords, weekdayName } from './recurrence-words.ts';

type Interval = { from: string; to: string };
export interface Day {
  start: number;
  end: number;
  w: Wall;
}
type Row = { kind: 'entry'; from: number; to: number; e: TimetableEntry } | { kind: 'quiet' | 'free'; from: number; to: number };

const known = (k: string): k is Key => k in vi;
/** Why it was missed, in words: the timetable's own codes first, then the airing reasons of codes.ts, else as sent. */
export function ttReason(code: string | null): string {
  if (!code) return '';
  const k = 'tt.r_' + (code === 'conflict' ? 'clash' : code);
  return known(k) ? t(k) : reasonText(code) || code;
}
const flagText = (f: string) => (f === 'change_pending' ? t('prog.stChange') : known('tt.flag_' + f) ? t(('tt.flag_' + f) as Key) : f);

/** The words of an entry's state; a partial airing says how many clusters missed it. */
export function stateText(e: TimetableEntry): string {
  switch (e.state) {
    case 'partial':
      return t('tt.stPartial', { n: fmtNum(e.clusters.missed) });
    case 'missed': {
      // No reason on the entry, but one shared by every cluster that missed it (all offline, say): that one.
      const why = e.reason ?? (e.missedBy.length && e.missedBy.every((m) => m.reason === e.missedBy[0].reason) ? e.missedBy[0].reason : null);
      return why ? t('tt.stMissedWhy', { why: ttReason(why) }) : t('tt.stMissed');
    }
    default:
      return t(('tt.st_' + e.state) as Key);
  }
}

export const dayTitle = (w: Wall) => {
  const wd = new Date(Date.UTC(w.y, w.M - 1, w.d)).getUTCDay() || 7;
  const name = weekdayName(dict(), wd);
  return `${name.charAt(0).toLocaleUpperCase('vi') + name.slice(1)}, ${fmtDate(w)}`;
};

/** Clock time in the area's zone; the end of the day reads 24:00, not 00:00. */
const clock = (ms: number, day: Day, zone: string) => (ms >= day.end ? '24:00' : fmtTime(wall(ms, zone)));

/** "05:30–05:45"; a bulletin of a few seconds that ends in the minute it starts is just "05:30". */
function timeRange(e: TimetableEntry, day: Day, zone: string): string {
  const from = clock(Date.parse(e.startAt), day, zone);
  const to = fmtTime(wall(Date.parse(e.endAt), zone));
  return from === to ? from : `${from}–${to}`;
}

function rowsOf(tt: Timetable, day: Day): Row[] {
  const clip = (kind: 'quiet' | 'free') => (x: Interval): Row | null => {
    const from = Math.max(Date.parse(x.from), day.start);
    const to = Math.min(Date.parse(x.to), day.end);
    return to > from ? { kind, from, to } : null;
  };
  const entries: Row[] = tt.entries
    .filter((e) => Date.parse(e.startAt) >= day.start && Date.parse(e.startAt) < day.end)
    .map((e) => ({ kind: 'entry', from: Date.parse(e.startAt), to: Date.parse(e.endAt), e }));
  const bands = [...tt.quiet.map(clip('quiet')), ...tt.free.map(clip('free'))].filter((r): r is Row => !!r);
  return [...bands, ...entries].sort((a, b) => a.from - b.from || (a.kind === 'entry' ? 1 : -1));
}

function Entry({ e, day, zone }: { e: TimetableEntry; day: Day; zone: string }) {
  const to = e.broadcastId ? '/broadcasts/' + e.broadcastId : e.programmeId ? '/programmes/' + e.programmeId : null;
  const missed = e.missedBy.length > 0 && (e.state === 'partial' || e.state === 'missed');
  return (
    <li class={'tt-entry tt-' + e.state} style={{ borderLeftColor: e.colour ?? '#6b6b6b' }} data-testid="tt-entry" data-state={e.state} data-title={e.title}>
      <span class="tt-time">{timeRange(e, day, zone)}</span>
      <span class="tt-what">
        {to ? (
          <a href={to} onClick={(ev) => (ev.preventDefault(), navigate(to))}>
            {e.title}
          </a>
        ) : (
          <strong>{e.title}</strong>
        )}
        {e.level !== 'normal' && <span class={'lvl lvl-' + e.level}>{t(e.level === 'emergency' ? 'emergencyLevel' : 'priority')}</span>}
      </span>
      <span class={'badge tt-state ts-' + e.state} data-testid="tt-state">
        {stateText(e)}
      </span>
      {e.state !== 'missed' && e.state !== 'cancelled' && e.clusters.targeted > 0 && <span class="muted small">{t('tt.clusters', { n: fmtNum(e.clusters.targeted) })}</span>}
      {e.flags.map((f) => (
        <span class="tt-flag small">{flagText(f)}</span>
      ))}
      {missed && (
        <details class="tt-missed">
          <summary>{t('tt.missedBy', { n: fmtNum(e.clusters.missed || e.missedBy.length) })}</summary>
          <ul>
            {e.missedBy.map((m) => (
              <li>
                {m.name}
                {m.reason && ' — ' + ttReason(m.reason)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

/** A strip of the 24 hours (decoration; the list below says the same in words): quiet hours hatched, airings in colour. */
function Strip({ rows, day }: { rows: Row[]; day: Day }) {
  const pct = (ms: number) => ((ms - day.start) / (day.end - day.start)) * 100;
  return (
    <div class="tt-strip" aria-hidden="true">
      {rows.map((r) => (
        <span class={'tt-seg seg-' + r.kind} style={{ left: pct(r.from) + '%', width: Math.max(pct(Math.min(r.to, day.end)) - pct(r.from), 0.6) + '%', ...(r.kind === 'entry' ? { background: r.e.colour ?? '#6b6b6b' } : {}) }} />
      ))}
    </div>
  );
}

/** One day of the timetable: its airings in time order between the quiet-hours bands and the room left free. */
export function TimetableDay({ tt, day, label }: { tt: Timetable; day: Day; label?: string }) {
  const rows = rowsOf(tt, day);
  const id = `tt-day-${day.w.y}-${day.w.M}-${day.w.d}`;
  return (
    <section class="tt-day" aria-labelledby={id} data-testid="tt-day" data-date={`${day.w.y}-${String(day.w.M).padStart(2, '0')}-${String(day.w.d).padStart(2, '0')}`}>
      <h2 id={id}>
        {dayTitle(day.w)} {label && <span class="badge">{label}</span>}
      </h2>
      <Strip rows={rows} day={day} />
      {!rows.some((r) => r.kind === 'entry') && <p class="muted small">{t('tt.nothing')}</p>}
      <ol class="tt-rows">
        {rows.map((r) =>
          r.kind === 'entry' ? (
            <Entry e={r.e} day={day} zone={tt.zone} />
          ) : (
            <li class={'tt-band band-' + r.kind} data-testid={'tt-' + r.kind}>
              {t(r.kind === 'quiet' ? 'tt.quiet' : 'tt.free', { from: clock(r.from, day, tt.zone), to: clock(r.to, day, tt.zone), d: durationWords(Math.round((r.to - r.from) / 60_000) * 60_000, dict()) })}
            </li>
          ),
        )}
      </ol>
    </section>
  );
}
