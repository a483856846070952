import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { t, fmtDateTime, errorText } from '../i18n/index.ts';
import { can } from '../session.ts';
import { useLoad } from '../hooks.ts';
import { Loading, StateBadge, Stat, FormError } from '../components/ui.tsx';
import { BroadcastRow } from './dashboard.tsx';
import { airingStateText, reasonText } from '../i18n/codes.ts';
import { fmtTime, wall } from '../i18n/time.ts';

export function BroadcastList() {
  const list = useLoad(() => api.broadcasts({ limit: 50 }), [], ['broadcast']);
  return (
    <section>
      <h1>{t('broadcasts')}</h1>
      {!list.data ? <Loading error={list.error} /> : list.data.length ? <ul class="list">{list.data.map((b) => <BroadcastRow b={b} />)}</ul> : <p class="muted">{t('none')}</p>}
    </section>
  );
}

/** Every airing of the broadcast, cluster by cluster; fetched only while open (a commune-wide one has hundreds). */
function Airings({ id }: { id: string }) {
  const [open, setOpen] = useState(false);
  const list = useLoad(() => (open ? api.airings(id) : Promise.resolve(null)), [id, open], ['airing']);
  return (
    <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('perCluster')}</summary>
      {open && !list.data ? (
        <Loading error={list.error} />
      ) : (
        list.data && (
          <div class="scroll-x">
            <table data-testid="airings" class="stack">
              <thead>
                <tr>
                  <th scope="col">{t('cluster')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('started')}</th>
                  <th scope="col">{t('reason')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.slice(0, 500).map((a) => (
                  <tr>
                    <td>
                      {a.clusterId}
                      {a.seq > 0 ? ` (#${a.seq + 1})` : ''}
                    </td>
                    <td>{airingStateText(a.state)}</td>
                    <td>{a.startedAt ? fmtTime(wall(Date.parse(a.startedAt)), true) : '—'}</td>
                    <td>{reasonText(a.reason)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      )}
    </details>
  );
}

/** Live progress of one broadcast: counts from the server's delivery summary, refreshed on airing/broadcast events. */
export function BroadcastDetail({ id }: { id: string }) {
  const b = useLoad(() => api.broadcast(id), [id], ['airing', 'broadcast']);
  const [msg, setMsg] = useState<string>();
  if (!b.data) return <Loading error={b.error} />;
  const x = b.data;
  const d = x.delivery;
  const cancel = async () => {
    if (!confirm(t('cancelConfirm', { title: x.title }))) return;
    try {
      await api.cancel(id);
      b.reload();
    } catch (e) {
      setMsg(errorText(e));
    }
  };
  return (
    <section>
      <h1>
        <span class={'lvl lvl-' + x.level}>{t(x.level === 'emergency' ? 'emergencyLevel' : x.level)}</span> {x.title}
      </h1>
      <p>
        <StateBadge state={x.state} /> {fmtDateTime(x.startAt ?? x.createdAt, true)}
      </p>
      {x.rejectReason && <p class="banner error">{t('reason')}: {x.rejectReason}</p>}
      <FormError msg={msg} />
      <h2>{t('delivery')}</h2>
      <div class="stats" data-testid="delivery">
        <Stat label={t('targeted')} value={d.targeted} />
        <Stat label={t('received')} value={d.received} />
        <Stat label={t('started')} value={<span data-testid="started">{d.started}</span>} />
        <Stat label={t('finished')} value={<span data-testid="finished">{d.finished}</span>} tone={d.finished === d.targeted && d.targeted ? 'ok' : undefined} />
        <Stat label={t('failedN')} value={d.failed} tone={d.failed ? 'bad' : 'ok'} />
      </div>
      <div class="bar" aria-hidden="true">
        <div class="bar-started" style={{ width: (d.targeted ? (d.started / d.targeted) * 100 : 0) + '%' }} />
        <div class="bar-finished" style={{ width: (d.targeted ? (d.finished / d.targeted) * 100 : 0) + '%' }} />
      </div>
      {d.startDelayMs.median !== null && (
        <p class="muted small">
          {t('delayLine', { median: Math.round(d.startDelayMs.median), max: Math.round(d.startDelayMs.max ?? 0) })}
        </p>
      )}
      {d.failures.length > 0 && (
        <>
          <h2>{t('failures')}</h2>
          <ul class="list">
            {d.failures.map((f) => (
              <li>
                <strong>{f.clusterId}</strong>
                <span class="row-meta">
                  {airingStateText(f.state)}
                  {reasonText(f.reason) ? ': ' + reasonText(f.reason) : ''}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {can.broadcast() && ['scheduled', 'airing', 'pending_approval'].includes(x.state) && (
        <button type="button" class="danger" onClick={cancel}>
          {t('cancelBroadcast')}
        </button>
      )}
      <Airings id={id} />
    </section>
  );
}
