import type { Broadcast } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { fmtDateTime, fmtTimeDay } from '../i18n/time.ts';
import { fmtNum, fmtSeconds } from '../i18n/numbers.ts';
import { airingStateText, reasonText } from '../i18n/codes.ts';
import { Stat } from './ui.tsx';

/** A cluster list cut to what a phone screen holds, the rest counted ("và 12 cụm khác"). */
export function placesText(places: string[], total: number, shown = 6): string {
  const head = places.slice(0, shown).join(', ');
  const more = Math.max(places.length - shown, 0);
  return more ? `${head} ${t('moreClusters', { n: fmtNum(more) })}` : head || '—';
}

/** How many times and how far apart, in minutes as officers count them. */
export function timesText(b: Pick<Broadcast, 'repeat'>): string {
  const { count, intervalS } = b.repeat;
  if (count <= 1) return t('timesOnce');
  if (!intervalS) return t('timesBackToBack', { n: count });
  return t('timesN', { n: count, m: fmtNum(intervalS / 60, intervalS % 60 ? 1 : 0) });
}

/**
 * What a bulletin will do, in the words of the person who approves it: where (names, not ids), to how many clusters,
 * when, how many times. Shown before anything has aired, where counts of deliveries would all be zero.
 */
export function WillAir({ b }: { b: Broadcast }) {
  return (
    <dl class="will-air" data-testid="will-air">
      <dt>{t('targets')}</dt>
      <dd>{t('willAirTo', { n: fmtNum(b.reach.clusters), places: placesText(b.reach.places, b.reach.clusters) })}</dd>
      <dt>{t('startTime')}</dt>
      <dd>{b.startAt ? t('willAirAt', { when: fmtDateTime(b.startAt) }) : t('willAirOnApproval')}</dd>
      <dt>{t('repeat')}</dt>
      <dd>{timesText(b)}</dd>
    </dl>
  );
}

/** Why a cluster has not received it yet, with the time it lost the link when that is the reason. */
export function waitingText(w: Broadcast['delivery']['waiting'][number]): string {
  if (w.reason === 'offline') return w.since ? t('w_offline', { since: fmtTimeDay(w.since) }) : t('w_offline_nosince');
  return t(w.reason === 'not_received' ? 'w_not_received' : 'w_not_downloaded');
}

/**
 * The progress counts. Green only for what is wholly good: "Đã phát xong" when every targeted cluster finished,
 * "Không phát được" only once the broadcast is over with none failed; while a targeted cluster has not received it,
 * "Chưa nhận" counts it in amber.
 */
export function DeliveryStats({ b }: { b: Broadcast }) {
  const d = b.delivery;
  const over = !['scheduled', 'airing'].includes(b.state);
  const allDone = d.targeted > 0 && d.finished === d.targeted;
  return (
    <div class="stats" data-testid="delivery">
      <Stat label={t('targeted')} value={<span data-testid="targeted">{fmtNum(d.targeted)}</span>} />
      <Stat label={t('received')} value={<span data-testid="received">{fmtNum(d.received)}</span>} />
      <Stat label={t('notReceivedN')} value={<span data-testid="not-received">{fmtNum(d.notReceived)}</span>} tone={d.notReceived ? 'warn' : undefined} />
      <Stat label={t('started')} value={<span data-testid="started">{fmtNum(d.started)}</span>} />
      <Stat label={t('finished')} value={<span data-testid="finished">{fmtNum(d.finished)}</span>} tone={allDone ? 'ok' : undefined} />
      <Stat label={t('failedN')} value={<span data-testid="failed">{fmtNum(d.failed)}</span>} tone={d.failed ? 'bad' : over && allDone ? 'ok' : undefined} />
    </div>
  );
}

/** The clusters still missing it, and those that could not air it, by name, each with its reason. */
export function MissingLists({ b }: { b: Broadcast }) {
  const d = b.delivery;
  const unlisted = d.notReceived - d.waiting.filter((w) => w.reason !== 'not_downloaded').length;
  return (
    <>
      {d.waiting.length > 0 && (
        <>
          <h2>{t('waitingTitle')}</h2>
          <ul class="list" data-testid="waiting">
            {d.waiting.map((w) => (
              <li data-cluster={w.clusterId}>
                <strong>{w.name}</strong>
                <span class="row-meta">{waitingText(w)}</span>
              </li>
            ))}
          </ul>
          {unlisted > 0 && <p class="muted small">{t('moreClusters', { n: fmtNum(unlisted) })}</p>}
        </>
      )}
      {d.failures.length > 0 && (
        <>
          <h2>{t('failures')}</h2>
          <ul class="list" data-testid="failures">
            {d.failures.map((f) => (
              <li data-cluster={f.clusterId}>
                <strong>{f.name}</strong>
                <span class="row-meta">{reasonText(f.reason) || airingStateText(f.state)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

/** How closely the clusters started together: seconds, which is what a listener hears. */
export function SpreadLine({ b }: { b: Broadcast }) {
  const d = b.delivery.startDelayMs;
  if (d.max === null || d.median === null) return null;
  return <p class="muted small">{t('delayLine', { max: fmtSeconds(d.max) })}</p>;
}
