import { api, type Broadcast } from '../api/client.ts';
import { t, fmtDateTime } from '../i18n/index.ts';
import { fmtTimeDay } from '../i18n/time.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { navigate } from '../router.ts';
import { can, communes, session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Stat, StateBadge, Loading, Select } from '../components/ui.tsx';
import { FaultList } from '../components/faults.tsx';
import { StatusDot } from './clusters.tsx';

export function DeliveryLine({ b }: { b: Broadcast }) {
  const d = b.delivery;
  return (
    <span class="delivery">
      {fmtNum(d.finished)}/{fmtNum(d.targeted)} ✓{d.failed ? ` · ${fmtNum(d.failed)} ✗` : ''}
    </span>
  );
}

export function BroadcastRow({ b }: { b: Broadcast }) {
  return (
    <li>
      <a
        href={'/broadcasts/' + b.id}
        onClick={(e) => {
          e.preventDefault();
          navigate('/broadcasts/' + b.id);
        }}
      >
        <span class={'lvl lvl-' + b.level}>{t(b.level === 'emergency' ? 'emergencyLevel' : b.level)}</span> <strong>{b.title}</strong>
      </a>
      <span class="row-meta">
        <StateBadge state={b.state} /> {fmtDateTime(b.startAt ?? b.createdAt)} <DeliveryLine b={b} />
      </span>
    </li>
  );
}

export function Dashboard() {
  const list = communes();
  const [sel, setSel] = useDraft('dashboard', { areaId: list[0]?.id ?? '' });
  const areaId = sel.areaId || list[0]?.id || '';
  const live = ['status', 'health', 'airing', 'broadcast'];
  const roll = useLoad(() => (areaId ? api.rollup(areaId) : Promise.resolve(null)), [areaId], live);
  const airing = useLoad(() => api.broadcasts({ state: 'airing', areaId: areaId || undefined, limit: 10 }), [areaId], live);
  const last = useLoad(() => api.broadcasts({ areaId: areaId || undefined, limit: 8 }), [areaId], live);
  const offline = useLoad(() => (areaId ? api.clusters({ areaId, online: false }) : Promise.resolve(null)), [areaId], ['status']);
  const r = roll.data;
  return (
    <section>
      {can.broadcast() && (
        <button type="button" class="emergency-btn" onClick={() => navigate('/emergency')}>
          ⚠ {t('emergency')}
        </button>
      )}
      <div class="row-between">
        <h1>{t('dashboard')}</h1>
        {list.length > 1 && (
          <Select label={t('commune')} value={areaId} onValue={(v) => setSel({ areaId: v })} options={list.map((a) => [a.id, a.name])} />
        )}
      </div>
      {!r ? (
        <Loading error={roll.error} />
      ) : (
        <div class="stats" data-testid="rollup">
          <Stat label={t('clustersOnline')} value={<span data-testid="online">{`${fmtNum(r.clustersOnline)}/${fmtNum(r.clustersTotal)}`}</span>} tone={r.clustersOnline < r.clustersTotal ? 'warn' : 'ok'} />
          <Stat label={t('speakersFaulty')} value={<span data-testid="faulty">{fmtNum(r.speakersWithFaults)}</span>} tone={r.speakersWithFaults ? 'bad' : 'ok'} />
          <Stat label={t('clustersOnBattery')} value={<span data-testid="battery">{fmtNum(r.clustersOnBattery)}</span>} tone={r.clustersOnBattery ? 'warn' : 'ok'} />
        </div>
      )}
      {/* The clusters behind "17/18", by name: the officer's first question is which one, and since when. */}
      {offline.data && offline.data.total > 0 && (
        <>
          <h2>{t('offlineClusters')}</h2>
          <ul class="list" data-testid="offline-list">
            {offline.data.items.map((c) => (
              <li data-cluster={c.id}>
                <a href={'/clusters/' + c.id} onClick={(e) => (e.preventDefault(), navigate('/clusters/' + c.id))}>
                  {c.name}
                </a>
                <span class="row-meta">
                  <StatusDot c={c} /> {c.health.changedAt || c.health.lastSeen ? t('offlineSince', { when: fmtTimeDay(c.health.changedAt ?? c.health.lastSeen) }) : t('offlineNever')}
                </span>
              </li>
            ))}
          </ul>
          {offline.data.total > offline.data.items.length && <p class="muted small">{t('moreClusters', { n: fmtNum(offline.data.total - offline.data.items.length) })}</p>}
        </>
      )}
      <h2>{t('currentFaults')}</h2>
      {/* Faults as alarms: since when, acknowledged or not, most urgent first; offline clusters are listed above. */}
      <FaultList areaId={areaId} offline={false} />
      <h2>{t('airingNow')}</h2>
      {airing.data?.length ? <ul class="list">{airing.data.map((b) => <BroadcastRow b={b} />)}</ul> : <p class="muted">{airing.data ? t('nothingAiring') : t('loading')}</p>}
      <h2>{t('lastBroadcasts')}</h2>
      {last.data?.length ? <ul class="list">{last.data.map((b) => <BroadcastRow b={b} />)}</ul> : <p class="muted">{last.data ? t('noBroadcasts') : t('loading')}</p>}
      {session.user && <p class="muted small">{session.user.displayName ?? session.user.username} · {t(('role_' + session.user.role) as any)}</p>}
    </section>
  );
}
