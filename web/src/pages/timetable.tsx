import { useEffect, useState } from 'preact/hooks';
import { api, type NowNext, type TimetableEntry } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { config } from '../config.ts';
import { fmtDate, fmtTime, fromWall, wall } from '../i18n/time.ts';
import { communes, session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Loading } from '../components/ui.tsx';
import { TimetableDay, stateText, type Day } from '../components/timetable-day.tsx';
import '../components/timetable.css';

/** The days shown, each from its own midnight in the area's zone (a day is not always 24 h where clocks change). */
function daysFrom(offset: number, n: number, zone: string): Day[] {
  const today = wall(Date.now(), zone);
  return Array.from({ length: n }, (_, i) => {
    const at = (k: number) => fromWall({ y: today.y, M: today.M, d: today.d + offset + k, h: 0, m: 0 }, zone);
    const start = at(i);
    return { start, end: at(i + 1), w: wall(start + 3_600_000, zone) };
  });
}

const span = (e: TimetableEntry, zone: string) => `${fmtTime(wall(Date.parse(e.startAt), zone))}–${fmtTime(wall(Date.parse(e.endAt), zone))}`;

/** "Đang phát / Tiếp theo": what the loudspeakers of the place say now, and what comes next. */
function NowNextBox({ nn, zone }: { nn: NowNext | null; zone: string }) {
  if (!nn) return null;
  const today = fmtDate(wall(Date.now(), zone));
  const nextDay = nn.next ? fmtDate(wall(Date.parse(nn.next.startAt), zone)) : '';
  return (
    <section class="card tt-now" data-testid="tt-now" aria-label={t('tt.nowNext')}>
      <p data-testid="tt-now-now">
        <strong>{t('airingNow')}:</strong> {nn.now ? `${nn.now.title} (${span(nn.now, zone)})` : t('tt.nothingNow')}
      </p>
      <p data-testid="tt-now-next">
        <strong>{t('tt.next')}:</strong>{' '}
        {nn.next ? `${nn.next.title} — ${t('tt.at', { when: fmtTime(wall(Date.parse(nn.next.startAt), zone)) + (nextDay !== today ? ' ' + nextDay : '') })} · ${stateText(nn.next)}` : t('tt.nothingNext')}
      </p>
    </section>
  );
}

/**
 * Lịch phát: a commune's (or one cluster's) day or week, past days with what aired and what was missed, quiet hours
 * as bands and the free room before them; a download of the same for the phone's calendar.
 */
export function TimetablePage() {
  const [v, setV] = useDraft('timetable', { areaId: communes()[0]?.id ?? '', clusterId: '', view: 'day' as 'day' | 'week' });
  const [offset, setOffset] = useState(0);
  const [tick, setTick] = useState(0);
  // "Now" moves on by itself: the box and the states are asked again each minute, besides live events.
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 60_000);
    return () => clearInterval(timer);
  }, []);
  const area = session.areas.find((a) => a.id === v.areaId);
  const zone = area?.effectivePolicy.timeZone ?? config.timezone;
  const days = daysFrom(offset, v.view === 'week' ? 7 : 1, zone);
  const where = v.clusterId ? { clusterId: v.clusterId } : { areaId: v.areaId };
  const from = new Date(days[0].start).toISOString();
  const to = new Date(days[days.length - 1].end).toISOString();
  const tt = useLoad(() => api.timetable({ ...where, from, to }), [v.areaId, v.clusterId, from, to, tick], ['broadcast', 'airing', 'programme']);
  const nn = useLoad(() => api.timetableNow(where), [v.areaId, v.clusterId, tick], ['broadcast', 'airing', 'programme']);
  const clusters = useLoad(() => (v.areaId ? api.clusters({ areaId: v.areaId, limit: 500 }) : Promise.resolve(null)), [v.areaId]);
  const places = communes().flatMap((c) => [c, ...session.areas.filter((a) => a.parentId === c.id)]);
  const todayStart = daysFrom(0, 1, zone)[0].start;
  const labelOf = (d: Day) => (d.start === todayStart ? t('tt.today') : d.end === todayStart ? t('tt.yesterday') : undefined);
  const step = v.view === 'week' ? 7 : 1;
  return (
    <section class="tt">
      <h1>{t('tt.title')}</h1>
      <NowNextBox nn={nn.data} zone={zone} />
      <div class="tt-where">
        <div class="field">
          <label for="tt-area">{t('tt.place')}</label>
          <select id="tt-area" value={v.areaId} onChange={(e) => setV({ ...v, areaId: e.currentTarget.value, clusterId: '' })}>
            {places.map((a) => (
              <option value={a.id}>{a.kind === 'commune' ? a.name : '— ' + a.name}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="tt-cluster">{t('cluster')}</label>
          <select id="tt-cluster" value={v.clusterId} onChange={(e) => setV({ ...v, clusterId: e.currentTarget.value })}>
            <option value="">{t('tt.allClusters')}</option>
            {(clusters.data?.items ?? []).map((c) => (
              <option value={c.id}>{c.name}</option>
            ))}
          </select>
        </div>
      </div>
      <div class="actions" role="group" aria-label={t('tt.view')}>
        <button type="button" aria-pressed={v.view === 'day'} onClick={() => setV({ ...v, view: 'day' })}>
          {t('tt.day')}
        </button>
        <button type="button" aria-pressed={v.view === 'week'} onClick={() => setV({ ...v, view: 'week' })}>
          {t('tt.week')}
        </button>
      </div>
      <nav class="actions tt-nav" aria-label={t('tt.move')}>
        <button type="button" onClick={() => setOffset(offset - step)} aria-label={t(v.view === 'week' ? 'tt.prevWeek' : 'tt.prevDay')}>
          ‹ {t('tt.prev')}
        </button>
        <button type="button" aria-pressed={offset === -1 && v.view === 'day'} onClick={() => (setOffset(-1), setV({ ...v, view: 'day' }))}>
          {t('tt.yesterday')}
        </button>
        <button type="button" aria-pressed={offset === 0} onClick={() => setOffset(0)}>
          {t('tt.today')}
        </button>
        <button type="button" onClick={() => setOffset(offset + step)} aria-label={t(v.view === 'week' ? 'tt.nextWeek' : 'tt.nextDay')}>
          {t('tt.later')} ›
        </button>
      </nav>
      {v.view === 'week' && (
        <p class="tt-range" role="status" data-testid="tt-range">
          {t('tt.weekRange', { from: fmtDate(days[0].w), to: fmtDate(days[6].w) })}
        </p>
      )}
      {/* The answer for another range (still on its way after "Tuần" or "Sau") is not shown as empty days. */}
      {!tt.data || tt.data.from !== from || tt.data.to !== to ? <Loading error={tt.error} /> : days.map((d) => <TimetableDay tt={tt.data!} day={d} label={labelOf(d)} />)}
      {v.areaId && (
        <p>
          <a class="btn" href={api.timetableIcsUrl(v.areaId)} download data-testid="tt-ics">
            {t('tt.ics')}
          </a>
        </p>
      )}
    </section>
  );
}
