import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AreaPolicy, SessionCap } from '../../../schemas/api/areas.ts';
import { api, type Area } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { pad, parseTime } from '../i18n/time.ts';
import { config } from '../config.ts';
import { useDraft } from '../hooks.ts';
import { FormError, Input, Select, useFormErrors } from '../components/ui.tsx';

/**
 * One area's broadcasting rules as an admin edits them. Each rule is either the area's own or inherited ("theo" the
 * parent); what the server checks beyond the format (a session ends after it starts, caps fit their window, sessions
 * do not overlap, quiet hours are not empty) it answers with the field, and the message is shown there.
 */
export type RuleKey = 'quietHours' | 'timeZone' | 'sessions';
export type Areas = Map<string, Area>;
type Mode = 'inherit' | 'none' | 'set';
interface SessionDraft {
  name: string;
  from: string;
  to: string;
  max: string;
}
interface PolicyDraft {
  quiet: Mode;
  quietFrom: string;
  quietTo: string;
  /** '' = inherited */
  tz: string;
  sess: Mode;
  sessions: SessionDraft[];
}

/** Zones offered; Vietnam's first. Any other IANA zone an area already has is kept in the list. */
const ZONES = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Vientiane', 'Asia/Phnom_Penh', 'Asia/Shanghai', 'UTC'];
const MAX_SESSIONS = 12;

/** Where a rule in force comes from: the area itself, the nearest area above that sets it, or the server's default. */
export function origin(a: Area, byId: Areas, k: RuleKey): 'own' | 'default' | 'above' | Area {
  if (a.policy?.[k] !== undefined) return 'own';
  for (let p = a.parentId; p; ) {
    const up = byId.get(p);
    if (!up) return 'above'; // out of this admin's sight
    if (up.policy?.[k] !== undefined) return up;
    p = up.parentId;
  }
  return 'default';
}

export function originWords(o: ReturnType<typeof origin>): string {
  if (o === 'own') return t('area.own');
  if (o === 'default') return t('area.fromDefault');
  if (o === 'above') return t('area.fromAbove');
  return t('area.from', { name: o.name });
}

export const quietWords = (q: string) => (q ? q.replace('-', '–') : t('area.none'));
export const sessionsWords = (list: SessionCap[]) =>
  list.length ? list.map((s) => t('area.sessionLine', { name: s.name, from: s.from, to: s.to, max: s.maxMinutes })).join('; ') : t('area.sessionsNone');

function zoneWords(zone: string): string {
  let off = '';
  try {
    off = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(Date.now()).find((x) => x.type === 'timeZoneName')?.value ?? '';
  } catch {
    /* a zone this browser does not know: the name alone */
  }
  off = off.replace(/^GMT/, 'UTC');
  const vn = zone === 'Asia/Ho_Chi_Minh' ? ` — ${t('area.tzVietnam')}` : '';
  return off && off !== zone ? `${zone}${vn} (${off})` : zone + vn;
}

/** What the rule would be without the area's own setting: the parent's rule in force (at the root, the default). */
function inheritedValue(a: Area, byId: Areas, k: RuleKey): AreaPolicy[RuleKey] | undefined {
  const parent = a.parentId ? byId.get(a.parentId) : undefined;
  if (parent) return parent.effectivePolicy[k];
  if (a.parentId) return undefined;
  if (a.policy?.[k] === undefined) return a.effectivePolicy[k];
  return k === 'timeZone' ? config.timezone : k === 'sessions' ? [] : undefined;
}

function inheritLabel(a: Area, byId: Areas, k: RuleKey): string {
  const parent = a.parentId ? byId.get(a.parentId) : undefined;
  const base = parent ? t('area.inherit', { name: parent.name }) : a.parentId ? t('area.inheritAbove') : t('area.inheritDefault');
  const v = inheritedValue(a, byId, k);
  if (v === undefined) return base;
  const words = k === 'quietHours' ? quietWords(v as string) : k === 'sessions' ? sessionsWords(v as SessionCap[]) : (v as string);
  return `${base} (${words})`;
}

function draftOf(p: AreaPolicy | null): PolicyDraft {
  const q = p?.quietHours;
  const [quietFrom = '', quietTo = ''] = q ? q.split('-') : [];
  const sessions = (p?.sessions ?? []).map((s) => ({ name: s.name, from: s.from, to: s.to, max: String(s.maxMinutes) }));
  return { quiet: q === undefined ? 'inherit' : q ? 'set' : 'none', quietFrom, quietTo, tz: p?.timeZone ?? '', sess: p?.sessions === undefined ? 'inherit' : sessions.length ? 'set' : 'none', sessions };
}

/** The policy to send (null = everything inherited), or what is wrong with the draft before sending. */
function policyOf(d: PolicyDraft): { policy: AreaPolicy | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const time = (key: string, v: string) => {
    const x = parseTime(v);
    if (!x) errors[key] = t(v.trim() ? 'v_time' : 'v_required');
    return x ? `${pad(x.h)}:${pad(x.m)}` : '';
  };
  const policy: AreaPolicy = {};
  if (d.quiet === 'none') policy.quietHours = '';
  if (d.quiet === 'set') policy.quietHours = `${time('quietFrom', d.quietFrom)}-${time('quietTo', d.quietTo)}`;
  if (d.tz) policy.timeZone = d.tz;
  if (d.sess === 'none') policy.sessions = [];
  if (d.sess === 'set')
    policy.sessions = d.sessions.map((s, i) => {
      const k = `sessions.${i}.`;
      const name = s.name.trim();
      if (!name) errors[k + 'name'] = t('v_required');
      const [from, to] = [time(k + 'from', s.from), time(k + 'to', s.to)];
      const max = Number(s.max.trim());
      if (!/^\d+$/.test(s.max.trim()) || max < 1 || max > 1440) errors[k + 'max'] = t('area.v_max');
      return { name, from, to, maxMinutes: max };
    });
  return { policy: Object.keys(policy).length ? policy : null, errors };
}

/** The server's path (body/policy/sessions/0/to) as this form's field key (sessions.0.to). */
function fieldOf(path: string): string | null {
  const p = path.replace(/^body\/policy\/?/, '');
  if (p === path) return null;
  if (p === 'quietHours') return 'quiet';
  if (p === 'timeZone') return 'tz';
  const m = p.match(/^sessions\/(\d+)\/(name|from|to|maxMinutes)$/);
  if (m) return `sessions.${m[1]}.${m[2] === 'maxMinutes' ? 'max' : m[2]}`;
  return p.startsWith('sessions') ? 'sessions' : null;
}

function Choice({ name, checked, label, onPick }: { name: string; checked: boolean; label: string; onPick: () => void }) {
  return (
    <label class="inline">
      <input type="radio" name={name} checked={checked} onChange={onPick} /> {label}
    </label>
  );
}

/** Times are typed, 24 h: a phone's number pad has no ':', so 2130, 21.30 and 21h30 are read as 21:30 too. */
const timeProps = { inputMode: 'decimal', autocomplete: 'off' } as const;

export function PolicyForm({ area, byId, onSaved, onCancel }: { area: Area; byId: Areas; onSaved: (a: Area) => void; onCancel: () => void }) {
  const [d, setD, clear] = useDraft<PolicyDraft>('area-policy-' + area.id, draftOf(area.policy));
  const err = useFormErrors();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  // After a refused save the first field in error comes into sight and takes the focus (its message is read with it).
  const jump = useRef(false);
  useLayoutEffect(() => {
    if (!jump.current) return;
    jump.current = false;
    const el = form.current?.querySelector<HTMLElement>('[aria-invalid="true"], .field-error, .banner.error');
    el?.scrollIntoView({ block: 'center' });
    if (el?.matches('input, select')) el.focus({ preventScroll: true });
  }, [err.errors]);
  const e = err.errors;
  const set = (p: Partial<PolicyDraft>, ...keys: string[]) => {
    setD((x) => ({ ...x, ...p }));
    keys.forEach(err.drop);
  };
  const putSession = (i: number, p: Partial<SessionDraft>, key: string) => set({ sessions: d.sessions.map((s, j) => (j === i ? { ...s, ...p } : s)) }, `sessions.${i}.${key}`, 'sessions');
  // Leaving a time field writes it the way it is read back ("2130" → "21:30"); what it means, and its error, stay.
  const tidy = (v: string) => {
    const x = parseTime(v);
    return x ? `${pad(x.h)}:${pad(x.m)}` : v;
  };
  const tidyQuiet = (k: 'quietFrom' | 'quietTo') => () => tidy(d[k]) !== d[k] && setD((x) => ({ ...x, [k]: tidy(x[k]) }));
  const tidySession = (i: number, k: 'from' | 'to') => () =>
    tidy(d.sessions[i][k]) !== d.sessions[i][k] && setD((x) => ({ ...x, sessions: x.sessions.map((s, j) => (j === i ? { ...s, [k]: tidy(s[k]) } : s)) }));
  const blank = { name: '', from: '', to: '', max: '' };
  const inheritedSessions = (inheritedValue(area, byId, 'sessions') as SessionCap[] | undefined) ?? [];
  // Choosing "own" starts from what is in force now, so an admin adjusts rather than retypes.
  const pickQuiet = (quiet: Mode) => {
    const [from = '', to = ''] = ((inheritedValue(area, byId, 'quietHours') as string | undefined) || '').split('-').filter(Boolean);
    set(quiet === 'set' && !d.quietFrom && !d.quietTo ? { quiet, quietFrom: from, quietTo: to } : { quiet }, 'quiet', 'quietFrom', 'quietTo');
  };
  const pickSess = (sess: Mode) => {
    const start = inheritedSessions.length ? inheritedSessions.map((s) => ({ name: s.name, from: s.from, to: s.to, max: String(s.maxMinutes) })) : [blank];
    set(sess === 'set' && !d.sessions.length ? { sess, sessions: start } : { sess }, 'sessions');
  };
  const submit = async (ev: Event) => {
    ev.preventDefault();
    err.clear();
    const r = policyOf(d);
    if (Object.keys(r.errors).length) {
      jump.current = true;
      return err.set(r.errors);
    }
    setBusy(true);
    try {
      const saved = await api.updateArea(area.id, { policy: r.policy });
      setBusy(false);
      clear();
      onSaved(saved);
    } catch (ex) {
      setBusy(false);
      jump.current = true;
      err.take(ex, fieldOf);
    }
  };
  const zones = d.tz && !ZONES.includes(d.tz) ? [...ZONES, d.tz] : ZONES;
  const n = (s: string) => `${s}-${area.id}`;
  return (
    <form class="policy-form" id={'policy-' + area.id} ref={form} onSubmit={submit} noValidate aria-label={t('area.editN', { name: area.name })}>
      <FormError msg={e._} />
      <fieldset>
        <legend>{t('area.quiet')}</legend>
        <p class="hint">{t('area.quietHint')}</p>
        <Choice name={n('quiet')} checked={d.quiet === 'inherit'} label={inheritLabel(area, byId, 'quietHours')} onPick={() => pickQuiet('inherit')} />
        <Choice name={n('quiet')} checked={d.quiet === 'none'} label={t('area.quietOff')} onPick={() => pickQuiet('none')} />
        <Choice name={n('quiet')} checked={d.quiet === 'set'} label={t('area.quietSet')} onPick={() => pickQuiet('set')} />
        {d.quiet === 'set' && (
          <div class="time-pair">
            <Input label={t('area.timeFrom')} placeholder="21:00" {...timeProps} value={d.quietFrom} onBlur={tidyQuiet('quietFrom')} onValue={(v) => set({ quietFrom: v }, 'quietFrom', 'quiet')} error={e.quietFrom} />
            <Input label={t('area.timeTo')} placeholder="05:00" {...timeProps} value={d.quietTo} onBlur={tidyQuiet('quietTo')} onValue={(v) => set({ quietTo: v }, 'quietTo', 'quiet')} error={e.quietTo} />
          </div>
        )}
        {d.quiet === 'set' && <p class="hint">{t('area.timeHint')}</p>}
        {e.quiet && (
          <p class="field-error" role="alert">
            {e.quiet}
          </p>
        )}
      </fieldset>
      <Select
        label={t('area.tz')}
        name={n('tz')}
        hint={t('area.tzHint')}
        value={d.tz}
        onValue={(v) => set({ tz: v }, 'tz')}
        options={[['', inheritLabel(area, byId, 'timeZone')], ...zones.map((z): [string, string] => [z, zoneWords(z)])]}
        error={e.tz}
      />
      <fieldset>
        <legend>{t('area.sessions')}</legend>
        <p class="hint">{t('area.sessHint')}</p>
        <Choice name={n('sess')} checked={d.sess === 'inherit'} label={inheritLabel(area, byId, 'sessions')} onPick={() => pickSess('inherit')} />
        <Choice name={n('sess')} checked={d.sess === 'none'} label={t('area.sessOff')} onPick={() => pickSess('none')} />
        <Choice name={n('sess')} checked={d.sess === 'set'} label={t('area.sessSet')} onPick={() => pickSess('set')} />
        {e.sessions && (
          <p class="field-error" role="alert">
            {e.sessions}
          </p>
        )}
        {d.sess === 'set' && (
          <>
            <ol class="sess-list">
              {d.sessions.map((s, i) => (
                <li>
                  <fieldset class="sess-row">
                    <legend>{t('area.sessN', { n: i + 1 })}</legend>
                    <Input label={t('area.sessName')} placeholder={t('area.sessNameEg')} autocomplete="off" value={s.name} onValue={(v) => putSession(i, { name: v }, 'name')} error={e[`sessions.${i}.name`]} />
                    <Input label={t('area.timeFrom')} placeholder="05:00" {...timeProps} value={s.from} onBlur={tidySession(i, 'from')} onValue={(v) => putSession(i, { from: v }, 'from')} error={e[`sessions.${i}.from`]} />
                    <Input label={t('area.timeTo')} placeholder="07:00" {...timeProps} value={s.to} onBlur={tidySession(i, 'to')} onValue={(v) => putSession(i, { to: v }, 'to')} error={e[`sessions.${i}.to`]} />
                    <Input label={t('area.sessMax')} inputMode="numeric" autocomplete="off" placeholder="30" value={s.max} onValue={(v) => putSession(i, { max: v }, 'max')} error={e[`sessions.${i}.max`]} />
                    <button type="button" class="danger" aria-label={t('area.sessRemoveN', { n: i + 1 })} onClick={() => (err.clear(), set({ sessions: d.sessions.filter((_, j) => j !== i) }))}>
                      {t('delete')}
                    </button>
                  </fieldset>
                </li>
              ))}
            </ol>
            {d.sessions.length === 0 && <p class="hint">{t('area.sessEmpty')}</p>}
            <button type="button" disabled={d.sessions.length >= MAX_SESSIONS} onClick={() => set({ sessions: [...d.sessions, blank] }, 'sessions')}>
              {t('area.sessAdd')}
            </button>
          </>
        )}
      </fieldset>
      <div class="actions">
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('sending') : t('area.save')}
        </button>
        <button type="button" onClick={() => (clear(), onCancel())}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
