import { useState } from 'preact/hooks';
import type { Alarm } from '../../../schemas/api/alarms.ts';
import { api, ApiError } from '../api/client.ts';
import { faultText } from '../i18n/codes.ts';
import { t, fmtDateTime, type Key } from '../i18n/index.ts';
import { fmtAbout, fmtNum } from '../i18n/numbers.ts';
import { navigate } from '../router.ts';
import { session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Field, FormError, useFormErrors } from './ui.tsx';
import './faults.css';

export type { Alarm };

/**
 * Limits the console states in advice and draws on charts. The overheat and battery-low figures are the server's
 * (server/src/health/faults.ts OVERHEAT_C, BATTERY_LOW_PCT); the mains window is where a typical over/under-voltage
 * relay of a pole cabinet opens.
 */
export const LIMITS = { mainsLowV: 180, mainsHighV: 250, overheatC: 75, batteryLowPct: 20 } as const;

/** Who may acknowledge (as the server's POST /api/alarms/:id/ack allows). */
export const canAck = () => ['admin', 'technician', 'operator'].includes(session.user?.role ?? '');

/** 'output-1-open' → 'output_open'; 'mains-lost' → 'mains_lost'; an unknown code → 'unknown'. */
function codeKey(type: string): string {
  const o = /^output-\d+-(\w+)$/.exec(type);
  const k = o ? `output_${o[1]}` : type.replace(/-/g, '_');
  return t(`fm_${k}` as Key) !== `fm_${k}` ? k : 'unknown';
}

const vars = () => ({
  low: fmtNum(LIMITS.mainsLowV),
  high: fmtNum(LIMITS.mainsHighV),
  limit: fmtNum(LIMITS.overheatC),
  pct: fmtNum(LIMITS.batteryLowPct),
});
export const faultMeaning = (type: string) => t(`fm_${codeKey(type)}` as Key, vars());
/** What to do; for a cluster on battery, how long the battery lasts when the server could measure it. */
export function faultAdvice(a: Pick<Alarm, 'type' | 'batteryHours'>): string {
  const advice = t(`fa_${codeKey(a.type)}` as Key, vars());
  return a.batteryHours === null ? advice : `${advice} ${t('batteryLeft', { h: fmtAbout(a.batteryHours) })}`;
}
/** The fault in words, with the output's own label ("Loa hướng Nam: hở mạch (đứt dây loa)"). */
export function alarmText(a: Pick<Alarm, 'type' | 'outputLabel'>): string {
  const o = /^output-(\d+)-/.exec(a.type);
  return faultText(a.type, o && a.outputLabel ? [{ index: Number(o[1]), label: a.outputLabel }] : []);
}

const SEVERITY_ORDER = { critical: 0, major: 1, minor: 2 } as const;
/** Unacknowledged first, then the most severe, then the newest. */
export const byUrgency = (x: Alarm, y: Alarm) =>
  Number(x.ackedAt !== null) - Number(y.ackedAt !== null) || SEVERITY_ORDER[x.severity] - SEVERITY_ORDER[y.severity] || y.raisedAt.localeCompare(x.raisedAt);

export const Severity = ({ a }: { a: Pick<Alarm, 'severity'> }) => <span class={'sev sev-' + a.severity}>{t(`sev_${a.severity}` as Key)}</span>;

function AckedLine({ a }: { a: Alarm }) {
  return (
    <div class="acked" data-testid="acked">
      <p>{t('ackedBy', { name: a.ackedByName ?? '—', when: fmtDateTime(a.ackedAt) })}</p>
      {a.ackNote && <blockquote>{a.ackNote}</blockquote>}
    </div>
  );
}

/** The acknowledgement form: the note is kept as a draft until the server has it. */
function AckForm({ a, onDone }: { a: Alarm; onDone: (x: Alarm) => void }) {
  const [draft, setDraft, clear] = useDraft('ack.' + a.id, { note: '' });
  const [busy, setBusy] = useState(false);
  const f = useFormErrors();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    f.clear();
    try {
      const x = await api.ackAlarm(a.id, draft.note);
      clear();
      onDone(x);
    } catch (err) {
      const first = err instanceof ApiError && err.status === 409 ? /already acknowledged by (.+)$/.exec(err.message) : null;
      if (first) f.set({ _: t('v_alreadyAcked', { name: first[1] }) });
      else f.take(err, (p) => (p === 'body/note' ? 'note' : null));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="ack-form" onSubmit={submit} aria-label={`${t('ackAlarm')}: ${alarmText(a)}`}>
      <Field label={t('ackNote')} hint={t('ackNoteHint')} error={f.errors.note}>
        {(id, d) => <textarea id={id} aria-describedby={d} aria-invalid={!!f.errors.note} rows={2} maxLength={500} value={draft.note} onInput={(e) => setDraft({ note: e.currentTarget.value })} />}
      </Field>
      <FormError msg={f.errors._} />
      <button type="submit" class="primary" disabled={busy}>{t('ackAlarm')}</button>
    </form>
  );
}

/** One fault of a cluster for the technician: since when, what it means, what to do, and its acknowledgement. */
export function AlarmCard({ a, onChanged }: { a: Alarm; onChanged?: () => void }) {
  // The server's answer is shown at once; the reload that the live event brings then agrees with it.
  const [acked, setAcked] = useState<Alarm | null>(null);
  const x = acked?.id === a.id && !a.ackedAt ? { ...a, ...pick(acked) } : a;
  return (
    <article class={'alarm sev-border-' + x.severity} data-testid="alarm" data-alarm={x.id} data-type={x.type}>
      <h3>
        {alarmText(x)} <Severity a={x} />
      </h3>
      <p class="alarm-when" data-testid="since">
        {x.active ? t('alarmSince', { when: fmtDateTime(x.raisedAt) }) : t('alarmCleared', { when: fmtDateTime(x.clearedAt) })}
        {x.count > 1 && ` · ${t('alarmCount', { n: fmtNum(x.count) })}`}
      </p>
      <dl class="alarm-advice">
        <dt>{t('alarmMeaning')}</dt>
        <dd data-testid="meaning">{faultMeaning(x.type)}</dd>
        <dt>{t('alarmAdvice')}</dt>
        <dd data-testid="advice">{faultAdvice(x)}</dd>
      </dl>
      {x.ackedAt ? <AckedLine a={x} /> : canAck() ? <AckForm a={x} onDone={(y) => (setAcked(y), onChanged?.())} /> : <p class="muted">{t('notAcked')}</p>}
    </article>
  );
}
const pick = (a: Alarm) => ({ ackedAt: a.ackedAt, ackedBy: a.ackedBy, ackedByName: a.ackedByName, ackNote: a.ackNote });

/**
 * The current alarms of an area, most urgent first: cluster (a link to its page), the fault in words, since when and
 * whether someone acknowledged it. Reloads on live `alarm` events. `offline={false}` leaves out offline clusters
 * for a screen that lists them on their own.
 */
export function FaultList({ areaId, offline = true }: { areaId: string; offline?: boolean }) {
  const list = useLoad(() => (areaId ? api.alarms({ areaId, active: true, limit: 500 }) : Promise.resolve([])), [areaId], ['alarm']);
  if (!list.data) return <p class={list.error ? 'banner error' : 'muted'}>{list.error ?? t('loading')}</p>;
  const items = list.data.filter((a) => offline || a.type !== 'offline').sort(byUrgency);
  if (!items.length) return <p class="muted">{t('noFaults')}</p>;
  return (
    <ul class="list fault-list" data-testid="fault-list">
      {items.map((a) => (
        <li data-alarm={a.id} data-cluster={a.clusterId}>
          <a href={'/clusters/' + a.clusterId} onClick={(e) => (e.preventDefault(), navigate('/clusters/' + a.clusterId))}>
            {a.clusterName}
          </a>
          <span class="row-meta">
            <Severity a={a} /> {alarmText(a)} · {t('alarmSince', { when: fmtDateTime(a.raisedAt) })} ·{' '}
            {a.ackedAt ? <span class="ack-yes">{t('ackedBy', { name: a.ackedByName ?? '—', when: fmtDateTime(a.ackedAt) })}</span> : <span class="ack-no">{t('notAcked')}</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}
