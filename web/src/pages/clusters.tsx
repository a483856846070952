import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Cluster } from '../api/client.ts';
import { t, fmtDateTime } from '../i18n/index.ts';
import { wall, fmtTime, pad } from '../i18n/time.ts';
import { airingStateText, faultsText, outputStateText, reasonText } from '../i18n/codes.ts';
import { config } from '../config.ts';
import { navigate } from '../router.ts';
import { session, areaName } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Input, Loading, Select } from '../components/ui.tsx';

export function statusOf(c: Pick<Cluster, 'health'>): 'offline' | 'fault' | 'battery' | 'ok' {
  if (!c.health.online) return 'offline';
  if (c.health.faults.length) return 'fault';
  if (c.health.onBattery) return 'battery';
  return 'ok';
}
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
export const STATUS_LABEL = { offline: 'offline', fault: 'faults', battery: 'onBattery', ok: 'online' } as const;
export const StatusDot = ({ c }: { c: Pick<Cluster, 'health'> }) => {
  const s = statusOf(c);
  return <span class={'dot s-' + s}>{t(STATUS_LABEL[s])}</span>;
};

export function ClusterList() {
  const [f, setF] = useDraft('clusters', { areaId: '', status: '', fault: '', q: '' });
  const list = useLoad(
    () => api.clusters({ areaId: f.areaId || undefined, online: f.status === '' ? undefined : f.status === 'on', fault: f.fault === '' ? undefined : f.fault === 'yes', q: f.q || undefined }),
    [f.areaId, f.status, f.fault, f.q],
    ['status', 'health'],
  );
  return (
    <section>
      <h1>{t('clusters')}</h1>
      <div class="filters">
        <Select label={t('area')} value={f.areaId} onValue={(v) => setF({ ...f, areaId: v })} options={[['', t('allAreas')], ...session.areas.map((a) => [a.id, '\u00a0'.repeat(a.level * 2) + a.name] as [string, string])]} />
        <Select label={t('status')} value={f.status} onValue={(v) => setF({ ...f, status: v })} options={[['', t('any')], ['on', t('online')], ['off', t('offline')]]} />
        <Select label={t('faults')} value={f.fault} onValue={(v) => setF({ ...f, fault: v })} options={[['', t('any')], ['yes', t('withFault')], ['no', t('noFault')]]} />
        <Input label={t('search')} type="search" value={f.q} onValue={(v) => setF({ ...f, q: v })} />
      </div>
      {!list.data ? (
        <Loading error={list.error} />
      ) : (
        <ul class="list">
          {list.data.items.map((c) => (
            <li>
              <a href={'/clusters/' + c.id} onClick={(e) => (e.preventDefault(), navigate('/clusters/' + c.id))}>
                <strong>{c.name}</strong>
              </a>
              <span class="row-meta">
                <StatusDot c={c} /> {areaName(c.areaId)} {c.health.faults.length > 0 && <span class="small" data-testid="faults">· {faultsText(c.health.faults, c.outputs)}</span>}
              </span>
            </li>
          ))}
        </ul>
      )}
      {list.data && <p class="muted small">{list.data.total}</p>}
    </section>
  );
}

const HOUR = 3600;
const DAY = 86_400;
const RANGES = { '24h': { span: DAY, resolution: 300, incrs: [HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 12 * HOUR] }, '7d': { span: 7 * DAY, resolution: HOUR, incrs: [DAY, 2 * DAY] } };

/**
 * Telemetry charts. uPlot (loaded only here, keeping the first load small) takes x in epoch seconds; the x scale is
 * the whole window asked for (not just the points there are), ticks fall on whole hours / midnights of the
 * station's zone and read HH:mm (24 h) or dd/MM (7 days).
 */
function Chart({ id, range }: { id: string; range: '24h' | '7d' }) {
  const ref = useRef<HTMLDivElement>(null);
  const [empty, setEmpty] = useState(false);
  useEffect(() => {
    let plots: { destroy(): void }[] = [];
    let alive = true;
    (async () => {
      const r = RANGES[range];
      const toS = Math.ceil(Date.now() / 1000);
      const fromS = toS - r.span;
      const [{ default: uPlot }, data] = await Promise.all([
        import('uplot'),
        api.telemetry(id, new Date(fromS * 1000).toISOString(), new Date(toS * 1000).toISOString(), r.resolution),
        import('uplot/dist/uPlot.min.css'),
      ]);
      if (!alive || !ref.current) return;
      const pts = data.points;
      setEmpty(pts.length === 0);
      const xs = pts.map((p) => Math.round(Date.parse(p.t) / 1000));
      const width = Math.max(280, Math.min(ref.current.clientWidth || 320, 1000));
      const series: [string, (number | null)[], string][] = [
        [t('mainsV'), pts.map((p) => p.mainsV), '#0b4f6c'],
        [t('batteryV'), pts.map((p) => p.batteryV), '#8a5a00'],
        [t('ampTemp'), pts.map((p) => p.ampTempC), '#b00020'],
        [t('signal'), pts.map((p) => p.rssiDbm), '#1e6b24'],
      ];
      const tick = (s: number) => {
        const w = wall(s * 1000);
        return range === '24h' ? fmtTime(w) : `${pad(w.d)}/${pad(w.M)}`;
      };
      plots = series.map(([label, ys, stroke]) => {
        const box = document.createElement('div');
        box.className = 'chart';
        const last = [...ys].reverse().find((v) => v !== null);
        box.setAttribute('role', 'img');
        box.setAttribute('aria-label', `${label}, ${t(range === '24h' ? 'h24' : 'd7')}: ${last ?? '—'}`);
        ref.current!.appendChild(box);
        return new uPlot(
          {
            title: label,
            width,
            height: 170,
            tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), config.timezone),
            scales: { x: { time: true, range: [fromS, toS] } },
            series: [{}, { label, stroke, width: 2, spanGaps: false, points: { show: pts.length < 3 } }],
            axes: [
              {
                incrs: r.incrs,
                space: 44,
                // The labels are drawn on the canvas; they are also kept on the box for tests and tools.
                values: (_u: unknown, splits: number[]) => {
                  const labels = splits.map(tick);
                  box.dataset.ticks = labels.join(' ');
                  return labels;
                },
              },
              { size: 48 },
            ],
            legend: { show: false },
            cursor: { show: false },
          },
          [xs, ys] as any,
          box,
        );
      });
    })().catch(() => alive && setEmpty(true));
    return () => {
      alive = false;
      plots.forEach((p) => p.destroy());
      if (ref.current) ref.current.innerHTML = '';
    };
  }, [id, range]);
  return (
    <div>
      {empty && <p class="muted">{t('none')}</p>}
      <div ref={ref} class="charts" data-testid="charts" data-range={range} />
    </div>
  );
}

export function ClusterDetail({ id }: { id: string }) {
  const c = useLoad(() => api.cluster(id), [id], ['status', 'health']);
  const airings = useLoad(() => api.clusterAirings(id), [id], ['airing']);
  const [range, setRange] = useState<'24h' | '7d'>('24h');
  if (!c.data) return <Loading error={c.error} />;
  const x = c.data;
  const tel = x.telemetry as any;
  return (
    <section>
      <h1>{x.name}</h1>
      <p>
        <StatusDot c={x} /> <span data-testid="faults">{faultsText(x.health.faults, x.outputs)}</span>
      </p>
      <h2>{t('identity')}</h2>
      <dl class="kv">
        <dt>ID</dt><dd>{x.id}</dd>
        <dt>{t('area')}</dt><dd>{areaName(x.areaId)}</dd>
        <dt>{t('serial')}</dt><dd>{x.serial}</dd>
        <dt>{t('model')}</dt><dd>{x.model ?? '—'}</dd>
        <dt>{t('firmware')}</dt><dd>{x.firmwareVersion ?? (x.birth as any)?.firmware ?? '—'}</dd>
        <dt>{t('lastSeen')}</dt><dd>{fmtDateTime(x.health.lastSeen, true)}</dd>
      </dl>
      <h2>{t('outputs')}</h2>
      <ul class="list">
        {x.outputs.map((o) => {
          const fault = x.health.faults.find((f) => f.startsWith(`output-${o.index}-`));
          const state: string = fault ? fault.split('-')[2] : (tel?.outputs?.find?.((p: any) => p.index === o.index)?.state ?? 'ok');
          return (
            <li>
              <strong>{o.label}</strong>
              <span class="row-meta">
                <span class={'dot ' + (fault ? 's-fault' : state === 'ok' ? 's-ok' : 's-offline')}>{state === 'ok' ? t('ok') : cap(outputStateText(state))}</span> {o.ratedW ? `${o.ratedW} W` : ''}
              </span>
            </li>
          );
        })}
      </ul>
      <h2>{t('telemetry')}</h2>
      {tel ? (
        <dl class="kv">
          <dt>{t('mainsV')}</dt><dd>{tel.mains?.voltageV ?? '—'}</dd>
          <dt>{t('batteryV')}</dt><dd>{tel.backup?.batteryV ?? '—'} ({tel.backup?.batteryPct ?? '—'}%){tel.backup?.active ? ' · ' + t('onBattery') : ''}</dd>
          <dt>{t('ampTemp')}</dt><dd>{tel.amp?.temperatureC ?? '—'}</dd>
          <dt>{t('signal')}</dt><dd>{tel.network?.rssiDbm ?? '—'} ({tel.network?.type})</dd>
          <dt>{t('lastSeen')}</dt><dd>{fmtDateTime(x.telemetryAt, true)}</dd>
        </dl>
      ) : (
        <p class="muted">{t('none')}</p>
      )}
      <h2>{t('charts')}</h2>
      <div class="actions" role="group">
        <button type="button" aria-pressed={range === '24h'} onClick={() => setRange('24h')}>{t('h24')}</button>
        <button type="button" aria-pressed={range === '7d'} onClick={() => setRange('7d')}>{t('d7')}</button>
      </div>
      <Chart id={id} range={range} />
      <h2>{t('airingLog')}</h2>
      {airings.data?.length ? (
        <ul class="list">
          {airings.data.slice(0, 50).map((a) => (
            <li>
              <a href={'/broadcasts/' + a.broadcastId} onClick={(e) => (e.preventDefault(), navigate('/broadcasts/' + a.broadcastId))}>{a.broadcastId}</a>
              <span class="row-meta">{airingStateText(a.state)} · {fmtDateTime(a.startedAt ?? a.scheduledAt, true)}{reasonText(a.reason) ? ' · ' + reasonText(a.reason) : ''}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{t('none')}</p>
      )}
    </section>
  );
}
