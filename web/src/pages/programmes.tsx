import { useState } from 'preact/hooks';
import { api, type Programme, type ProgrammeInput } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { navigate } from '../router.ts';
import { can, communes } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { FormError, Input, Loading, useFormErrors } from '../components/ui.tsx';
import { dict } from '../components/programme-form.ts';
import { durationWords, occurrenceWords, rangeWords, scheduleWords } from '../components/recurrence-words.ts';
import '../components/programmes.css';

const go = (to: string) => (e: MouseEvent) => (e.preventDefault(), navigate(to));
const when = (b: ProgrammeInput) => [scheduleWords(b.schedule, dict()), rangeWords(b.schedule, dict())].filter(Boolean).join('. ');

/** Active, awaiting its first approval, or airing while a change waits: what a leader must look at. */
function stateOf(p: Programme): { key: 'prog.stActive' | 'prog.stPending' | 'prog.stChange' | 'prog.stRejected' | 'prog.stDeleted'; css: string } {
  if (p.state === 'active') return p.pending ? { key: 'prog.stChange', css: 'pending_approval' } : { key: 'prog.stActive', css: 'done' };
  if (p.state === 'pending_approval') return { key: 'prog.stPending', css: 'pending_approval' };
  return p.state === 'rejected' ? { key: 'prog.stRejected', css: 'rejected' } : { key: 'prog.stDeleted', css: 'cancelled' };
}

function Card({ p, onDone }: { p: Programme; onDone: () => void }) {
  const [f, setF, clear] = useDraft('prog-reject-' + p.id, { reason: '' });
  const [rejecting, setRejecting] = useState(false);
  const err = useFormErrors();
  const shown = p.live ?? p.pending;
  const st = stateOf(p);
  const next = p.next[0];
  const act = async (fn: () => Promise<unknown>) => {
    err.clear();
    try {
      await fn();
      clear();
      setRejecting(false);
      onDone();
    } catch (e) {
      err.take(e);
    }
  };
  const remove = () => confirm(t('prog.deleteConfirm', { name: p.name })) && act(() => api.deleteProgramme(p.id));
  const rejectReason = p.rejected?.rejectReason ?? null;
  return (
    <li class="card prog-card" style={{ borderLeftColor: p.colour }} data-testid="programme" data-id={p.id}>
      <h2>
        <span class="swatch-chip" style={{ background: p.colour }} aria-hidden="true" /> {p.name}
      </h2>
      <p class="row-meta">
        <span class={'badge st-' + st.css} data-testid="programme-state">
          {t(st.key)}
        </span>
        {shown?.body.level === 'priority' && <span class="lvl lvl-priority">{t('priority')}</span>}
        <span>{p.areaName}</span>
      </p>
      {shown && <p data-testid="programme-when">{when(shown.body)}</p>}
      <p class="muted small">
        {shown && t('prog.lengthIs', { d: durationWords(shown.durationMs, dict()) })}
        {' · '}
        {next ? t('prog.nextAiring', { when: occurrenceWords(next, dict()) }) : t('prog.noNext')}
      </p>
      {p.live && p.pending && (
        <p class="banner warn small" data-testid="programme-change">
          {t('prog.changeWaits', { name: p.pending.createdByName ?? '—', when: when(p.pending.body) })}
        </p>
      )}
      {p.state === 'rejected' && rejectReason && <p class="small">{t('prog.rejectedBecause', { reason: rejectReason })}</p>}
      <FormError msg={err.errors._} />
      <div class="actions">
        {can.broadcast() && p.state !== 'deleted' && (
          <a class="btn" href={'/programmes/' + p.id} onClick={go('/programmes/' + p.id)} aria-label={t('prog.editN', { name: p.name })}>
            {t('edit')}
          </a>
        )}
        {can.approve() && p.pending && (
          <>
            <button type="button" class="primary" onClick={() => act(() => api.approveProgramme(p.id))}>
              {t('approve')}
            </button>
            <button type="button" onClick={() => setRejecting(!rejecting)} aria-expanded={rejecting}>
              {t('reject')}
            </button>
          </>
        )}
        {can.broadcast() && p.state !== 'deleted' && (
          <button type="button" class="danger" onClick={remove}>
            {t('delete')}
          </button>
        )}
      </div>
      {rejecting && (
        <form onSubmit={(e) => (e.preventDefault(), act(() => api.rejectProgramme(p.id, f.reason)))} aria-label={t('reject')}>
          <Input label={t('reason')} value={f.reason} onValue={(v) => setF({ reason: v })} error={err.errors.reason} />
          <button type="submit" class="danger">
            {t('reject')}
          </button>
        </form>
      )}
    </li>
  );
}

/** Chương trình: the recurring programmes of the communes in reach, with what waits for approval. */
export function Programmes() {
  const [areaId, setAreaId] = useState(communes()[0]?.id ?? '');
  const list = useLoad(() => api.programmes({ areaId: areaId || undefined }), [areaId], ['broadcast', 'programme']);
  const saved = new URLSearchParams(location.search).get('saved');
  const savedOne = saved ? list.data?.find((p) => p.id === saved) : undefined;
  const shown = (list.data ?? []).filter((p) => p.state !== 'deleted');
  return (
    <section class="programmes">
      <h1>{t('prog.title')}</h1>
      {savedOne && (
        <p class="banner ok" role="status" data-testid="programme-saved">
          {t('prog.saved', { name: savedOne.name })} {savedOne.pending && !can.approve() ? t('prog.savedWaits') : ''}
        </p>
      )}
      <div class="actions">
        {can.broadcast() && (
          <a class="btn primary" href="/programmes/new" onClick={go('/programmes/new')}>
            + {t('prog.add')}
          </a>
        )}
        <a class="btn" href="/timetable" onClick={go('/timetable')}>
          {t('tt.title')}
        </a>
      </div>
      {communes().length > 1 && (
        <div class="field">
          <label for="prog-area">{t('commune')}</label>
          <select id="prog-area" value={areaId} onChange={(e) => setAreaId(e.currentTarget.value)}>
            {communes().map((a) => (
              <option value={a.id}>{a.name}</option>
            ))}
          </select>
        </div>
      )}
      {!list.data ? <Loading error={list.error} /> : shown.length ? <ul class="plain">{shown.map((p) => <Card p={p} onDone={list.reload} />)}</ul> : <p class="muted">{t('prog.none')}</p>}
    </section>
  );
}
