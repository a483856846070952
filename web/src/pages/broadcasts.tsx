import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { t, fmtDateTime, errorText } from '../i18n/index.ts';
import { can } from '../session.ts';
import { useLoad } from '../hooks.ts';
import { Loading, StateBadge, FormError } from '../components/ui.tsx';
import { DeliveryStats, MissingLists, SpreadLine, WillAir } from '../components/broadcast-parts.tsx';
import { SwitchList, inputText } from '../components/live-words.tsx';
import type { Broadcast } from '../api/client.ts';
import { BroadcastRow } from './dashboard.tsx';
import { airingStateText, reasonText } from '../i18n/codes.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { fmtTime, wall } from '../i18n/time.ts';

export function BroadcastList() {
  const list = useLoad(() => api.broadcasts({ limit: 50 }), [], ['broadcast']);
  return (
    <section>
      <h1>{t('broadcasts')}</h1>
      {!list.data ? <Loading error={list.error} /> : list.data.length ? <ul class="list">{list.data.map((b) => <BroadcastRow b={b} />)}</ul> : <p class="muted">{t('noBroadcasts')}</p>}
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
                      {a.clusterName}
                      {a.seq > 0 ? ` (#${a.seq + 1})` : ''}
                    </td>
                    <td>{a.state === 'failed' && reasonText(a.reason) ? reasonText(a.reason) : airingStateText(a.state)}</td>
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

/**
 * A relay or live-microphone broadcast: how many clusters play it now, what the stream carries, dropouts at the
 * speakers, the stream's switches, and the recording of what aired once it is stored.
 */
function LiveBox({ b }: { b: Broadcast }) {
  const l = b.live!;
  const running = b.state === 'airing' || b.state === 'scheduled';
  return (
    <div class="card live-box" data-testid="broadcast-live">
      <h2>{l.kind === 'relay' ? t('bl.relayTitle', { name: l.sourceName ?? '—' }) : t('bl.title')}</h2>
      <p class="stat-value" data-testid="live-on-air">
        {t('bl.onAir', { n: fmtNum(l.onAir), m: fmtNum(b.delivery.targeted) })}
      </p>
      <dl class="will-air">
        <dt>{t('bl.carries')}</dt>
        <dd data-testid="live-input">{inputText(l.input)}</dd>
        <dt>{t('bl.underruns')}</dt>
        <dd data-testid="live-underruns">{fmtNum(l.underruns)}</dd>
      </dl>
      {l.kind === 'relay' && (
        <>
          <h3 class="small">{t('src.switches')}</h3>
          <SwitchList switches={l.switches} max={10} />
        </>
      )}
      <h3 class="small">{t('bl.recording')}</h3>
      {l.recordingId ? (
        <audio controls preload="none" src={`/api/content/${l.recordingId}/audio`} aria-label={t('bl.recording')} data-testid="live-recording" />
      ) : (
        <p class="muted small">{running ? t('bl.recordingPending') : '—'}</p>
      )}
    </div>
  );
}

/** Live progress of one broadcast: counts from the server's delivery summary, refreshed on airing/broadcast events. */
export function BroadcastDetail({ id }: { id: string }) {
  const b = useLoad(() => api.broadcast(id), [id], ['airing', 'broadcast', 'live']);
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
      <p class="muted small">
        {t('sentBy', { name: x.createdByName ?? x.createdBy ?? '—' })}
        {x.approvedBy && x.approvedBy !== x.createdBy ? ' · ' + t('approvedBy', { name: x.approvedByName ?? x.approvedBy }) : ''}
      </p>
      {x.state === 'pending_approval' || x.state === 'rejected' ? (
        <WillAir b={x} />
      ) : (
        <>
          {x.live && <LiveBox b={x} />}
          <h2>{t('delivery')}</h2>
          {x.state === 'done' && d.failed > 0 && (
            <p class="banner warn" role="status" data-testid="done-missing">
              {t('doneWithMissing', { ok: fmtNum(d.finished), n: fmtNum(d.targeted), bad: fmtNum(d.failed) })}
            </p>
          )}
          <DeliveryStats b={x} />
          <div class="bar" aria-hidden="true">
            <div class="bar-started" style={{ width: (d.targeted ? (d.started / d.targeted) * 100 : 0) + '%' }} />
            <div class="bar-finished" style={{ width: (d.targeted ? (d.finished / d.targeted) * 100 : 0) + '%' }} />
          </div>
          <SpreadLine b={x} />
          <MissingLists b={x} />
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
