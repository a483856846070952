import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Cluster } from '../api/client.ts';
import { t, fmtDateTime } from '../i18n/index.ts';
import { wall, fmtTime, fmtTimeDay, pad } from '../i18n/time.ts';
import { airingStateText, faultText, faultsText, outputStateText, reasonText } from '../i18n/codes.ts';
import { fmtNum, fmtTicks, fmtUnit } from '../i18n/numbers.ts';
import { AlarmCard, byUrgency, LIMITS } from '../components/faults.tsx';
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

/** One charted quantity: a fixed y range (a 0,5 V wobble must not look like a collapse) and the limits drawn on it. */
interface Quantity {
  label: string;
  unit: string;
  digits: number;
  stroke: string;
  range: [number, number];
  limits: number[];
  ys: (number | null)[];
}

/**
 * Backup battery scales per 12 V-class block (lead-acid 6 cells, LiFePO4 4 cells, Li-ion 3 cells) with the voltage
 * near 20 % charge at rest as the low line. A birth may state `battery: { chemistry, nominalV }`; otherwise 12 V
 * lead-acid, or the block count the readings show (a 24 V pack never reads under 16 V).
 */
const CHEMISTRY = { 'lead-acid': { range: [10, 15], low: 11.8 }, lifepo4: { range: [10, 15], low: 12.8 }, 'li-ion': { range: [9, 13], low: 10.8 } } as const;
export function batteryScale(birth: Record<string, any> | null, readings: (number | null)[]): { range: [number, number]; low: number } {
  const stated = String(birth?.battery?.chemistry ?? birth?.batteryChemistry ?? '');
  const chem = /lifepo|lfp/i.test(stated) ? 'lifepo4' : /li-?ion|nmc|lithium/i.test(stated) ? 'li-ion' : 'lead-acid';
  const nominal = Number(birth?.battery?.nominalV ?? birth?.batteryNominalV) || 0;
  const seen = Math.max(0, ...readings.filter((v): v is number => v !== null));
  const blocks = nominal ? Math.max(1, Math.round(nominal / 12)) : seen > 32 ? 4 : seen > 16 ? 2 : 1;
  const c = CHEMISTRY[chem];
  return { range: [c.range[0] * blocks, c.range[1] * blocks], low: Math.round(c.low * blocks * 10) / 10 };
}

/** The fixed range, widened only when a reading falls outside it: an out-of-scale value must still be seen. */
function rangeOf(q: Quantity): [number, number] {
  const vals = q.ys.filter((v): v is number => v !== null);
  return [Math.min(q.range[0], Math.floor(Math.min(...vals, Infinity))), Math.max(q.range[1], Math.ceil(Math.max(...vals, -Infinity)))];
}

export const linkName = (type: string | undefined) => (type ? ({ wifi: 'Wi-Fi', ethernet: 'Ethernet' } as Record<string, string>)[type] ?? type.toUpperCase() : '—');

/**
 * Telemetry charts. uPlot (loaded only here, keeping the first load small) takes x in epoch seconds; the x scale is
 * the whole window asked for (not just the points there are), ticks fall on whole hours / midnights of the
 * station's zone and read HH:mm (24 h) or dd/MM (7 days). Each y axis has its quantity's fixed range (data-range
 * "min,max" on the box) with its limits drawn (data-limits), and the charts follow their container's width.
 */
function Chart({ id, range, birth }: { id: string; range: '24h' | '7d'; birth: Record<string, any> | null }) {
  const ref = useRef<HTMLDivElement>(null);
  const [empty, setEmpty] = useState(false);
  useEffect(() => {
    let plots: { destroy(): void; setSize(s: { width: number; height: number }): void }[] = [];
    let alive = true;
    let observer: ResizeObserver | null = null;
    const widthOf = () => Math.max(280, Math.min(ref.current?.clientWidth || 320, 1000));
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
      const battery = pts.map((p) => p.batteryV);
      const bs = batteryScale(birth, battery);
      const quantities: Quantity[] = [
        { label: t('mainsV'), unit: 'V', digits: 1, stroke: '#0b4f6c', range: [0, 260], limits: [LIMITS.mainsLowV, LIMITS.mainsHighV], ys: pts.map((p) => p.mainsV) },
        { label: t('batteryV'), unit: 'V', digits: 1, stroke: '#8a5a00', range: bs.range, limits: [bs.low], ys: battery },
        { label: t('ampTemp'), unit: '°C', digits: 1, stroke: '#b00020', range: [0, 100], limits: [LIMITS.overheatC], ys: pts.map((p) => p.ampTempC) },
        { label: t('signal'), unit: 'dBm', digits: 0, stroke: '#1e6b24', range: [-120, -40], limits: [], ys: pts.map((p) => p.rssiDbm) },
      ];
      const tick = (s: number) => {
        const w = wall(s * 1000);
        return range === '24h' ? fmtTime(w) : `${pad(w.d)}/${pad(w.M)}`;
      };
      plots = quantities.map((q) => {
        const [min, max] = rangeOf(q);
        const box = document.createElement('div');
        box.className = 'chart';
        box.dataset.range = `${min},${max}`;
        box.dataset.limits = q.limits.join(',');
        const last = [...q.ys].reverse().find((v) => v !== null);
        const limits = q.limits.map((v) => t('chartLimit', { v: fmtUnit(v, q.unit, v % 1 ? 1 : 0) }));
        box.setAttribute('role', 'img');
        box.setAttribute('aria-label', [`${q.label}, ${t(range === '24h' ? 'h24' : 'd7')}: ${last == null ? '—' : fmtUnit(last, q.unit, q.digits)}`, t('chartScale', { min: fmtNum(min), max: fmtNum(max) }), ...limits].join('; '));
        ref.current!.appendChild(box);
        // The readout under a chart: the latest value (and the limits), or the value under the finger or pointer.
        const readout = document.createElement('p');
        readout.className = 'chart-limits';
        readout.setAttribute('aria-hidden', 'true');
        const lastAt = xs[q.ys.lastIndexOf(last ?? null)];
        const showLatest = () => (readout.textContent = [last == null ? '—' : `${fmtTimeDay(lastAt * 1000)}: ${fmtUnit(last, q.unit, q.digits)}`, ...limits].join(' · '));
        const plot = new uPlot(
          {
            title: q.label,
            width: widthOf(),
            height: 170,
            tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), config.timezone),
            scales: { x: { time: true, range: [fromS, toS] }, y: { range: () => [min, max] } },
            series: [{ label: t('chartTime') }, { label: q.label, stroke: q.stroke, width: 2, spanGaps: false, points: { show: pts.length < 3 } }],
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
              {
                size: 52,
                values: (_u: unknown, splits: number[]) => {
                  const labels = fmtTicks(splits);
                  box.dataset.yticks = labels.join(' ');
                  return labels;
                },
              },
            ],
            legend: { show: false },
            cursor: { drag: { x: false, y: false } },
            hooks: {
              setCursor: [
                (u: any) => {
                  const i = u.cursor.idx;
                  const v = i == null ? null : q.ys[i];
                  if (v == null) showLatest();
                  else readout.textContent = `${fmtTimeDay(xs[i] * 1000)}: ${fmtUnit(v, q.unit, q.digits)}`;
                },
              ],
              draw: [
                (u: any) => {
                  const { ctx, bbox } = u;
                  ctx.save();
                  ctx.strokeStyle = '#b00020';
                  ctx.lineWidth = Math.max(1, devicePixelRatio);
                  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
                  for (const v of q.limits) {
                    const y = Math.round(u.valToPos(v, 'y', true));
                    ctx.beginPath();
                    ctx.moveTo(bbox.left, y);
                    ctx.lineTo(bbox.left + bbox.width, y);
                    ctx.stroke();
                  }
                  ctx.restore();
                  box.dataset.width = String(u.width);
                },
              ],
            },
          } as any,
          [xs, q.ys] as any,
          box,
        );
        box.appendChild(readout);
        showLatest();
        return plot;
      });
      // Turning a phone or resizing a window redraws at the new width (uPlot does not follow its container).
      let frame = 0;
      observer = new ResizeObserver(() => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(() => plots.forEach((p) => p.setSize({ width: widthOf(), height: 170 })));
      });
      observer.observe(ref.current);
    })().catch(() => alive && setEmpty(true));
    return () => {
      alive = false;
      observer?.disconnect();
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
  // What is wrong now, and what cleared before anyone acknowledged it (still owed a look).
  const alarms = useLoad(() => Promise.all([api.alarms({ clusterId: id, active: true }), api.alarms({ clusterId: id, active: false, acknowledged: false, limit: 20 })]), [id], ['alarm']);
  const [range, setRange] = useState<'24h' | '7d'>('24h');
  if (!c.data) return <Loading error={c.error} />;
  const x = c.data;
  const tel = x.telemetry;
  const [active, cleared] = alarms.data ?? [[], []];
  return (
    <section>
      <h1>{x.name}</h1>
      <p>
        <StatusDot c={x} /> <span data-testid="faults">{faultsText(x.health.faults, x.outputs)}</span>
      </p>
      <h2>{t('currentFaults')}</h2>
      {!alarms.data ? (
        <Loading error={alarms.error} />
      ) : active.length ? (
        <div data-testid="alarms">{[...active].sort(byUrgency).map((a) => <AlarmCard key={a.id} a={a} onChanged={alarms.reload} />)}</div>
      ) : (
        <p class="muted">{t('noFaults')}</p>
      )}
      {cleared.length > 0 && (
        <>
          <h2>{t('clearedUnacked')}</h2>
          <div data-testid="alarms-cleared">{cleared.map((a) => <AlarmCard key={a.id} a={a} onChanged={alarms.reload} />)}</div>
        </>
      )}
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
          const state: string = fault ? fault.split('-')[2] : (tel?.outputs.find((p) => p.index === o.index)?.state ?? 'ok');
          return (
            <li>
              <strong>{o.label}</strong>
              <span class="row-meta">
                <span class={'dot ' + (fault ? 's-fault' : state === 'ok' ? 's-ok' : 's-offline')}>{state === 'ok' ? t('ok') : cap(outputStateText(state))}</span> {o.ratedW ? fmtUnit(o.ratedW, 'W') : ''}
              </span>
            </li>
          );
        })}
      </ul>
      <h2>{t('telemetry')}</h2>
      {tel ? (
        <dl class="kv" data-testid="telemetry">
          <dt>{t('mainsV')}</dt><dd>{tel.mains.present && tel.mains.voltageV !== null ? fmtUnit(tel.mains.voltageV, 'V', 1) : faultText('mains-lost')}</dd>
          <dt>{t('batteryV')}</dt><dd>{fmtUnit(tel.backup.batteryV, 'V', 1)} ({fmtUnit(tel.backup.batteryPct, '%', 1)}){tel.backup.active ? ' · ' + t('onBattery') : ''}</dd>
          <dt>{t('ampTemp')}</dt><dd>{fmtUnit(tel.amp.temperatureC, '°C', 1)}</dd>
          <dt>{t('signal')}</dt><dd>{fmtUnit(tel.network.rssiDbm, 'dBm')} · {linkName(tel.network.type)}</dd>
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
      <Chart id={id} range={range} birth={x.birth} />
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
