import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Preview, type Problem, type Programme, type ProgrammeInput } from '../api/client.ts';
import { t, errorText, type Key } from '../i18n/index.ts';
import { config } from '../config.ts';
import { navigate } from '../router.ts';
import { can, communes, session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Input, Loading, Select, useFormErrors } from '../components/ui.tsx';
import { AreaTargets } from './compose.tsx';
import { EMPTY_PROGRAMME, PALETTE, dict, fieldOf, fromInput, toInput, type ProgrammeDraft } from '../components/programme-form.ts';
import { SchedulePicker } from '../components/schedule-picker.tsx';
import { ProgrammeItems } from '../components/programme-items.tsx';
import { PreviewBox, Problems } from '../components/programme-preview.tsx';
import { rangeWords, scheduleWords } from '../components/recurrence-words.ts';
import '../components/programmes.css';

type PreviewState = { busy: boolean; data?: Preview; error?: string; waiting?: string };
const isProblem = (x: unknown): x is Problem => !!x && typeof x === 'object' && 'kind' in x && 'message' in x;

/**
 * The preview follows the draft once it is complete enough to send, half a second after typing stops; an answer
 * overtaken by more typing is dropped. While a new one is worked out the previous answer stays in sight.
 */
function usePreview(body: ProgrammeInput | undefined, programmeId: string | undefined): PreviewState {
  const [pv, setPv] = useState<PreviewState>({ busy: false });
  const key = body ? JSON.stringify(body) : '';
  useEffect(() => {
    if (!key) return setPv({ busy: false, waiting: t('prog.previewWaiting') });
    const ctl = new AbortController();
    setPv((p) => ({ ...p, busy: true, waiting: undefined }));
    const timer = setTimeout(() => {
      api.previewProgramme(JSON.parse(key), programmeId, ctl.signal).then(
        (data) => setPv({ busy: false, data }),
        (e) => ctl.signal.aborted || setPv({ busy: false, error: errorText(e) }),
      );
    }, 500);
    return () => (clearTimeout(timer), ctl.abort());
  }, [key]);
  return pv;
}

function Form({ id, initial, programme }: { id?: string; initial: ProgrammeDraft; programme?: Programme }) {
  const [f, setF, clear] = useDraft(id ? 'programme-' + id : 'programme-new', initial);
  const set = (patch: Partial<ProgrammeDraft>) => setF((p) => ({ ...p, ...patch }));
  const err = useFormErrors();
  const [tries, setTries] = useState(0);
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<Problem[]>([]);
  const local = toInput(f);
  const pv = usePreview(local.body, id);
  const area = session.areas.find((a) => a.id === f.areaId);
  const zone = area?.effectivePolicy.timeZone ?? config.timezone;
  const quiet = area?.effectivePolicy.quietHours ?? '';
  const clusters = useLoad(() => (f.areaId ? api.clusters({ areaId: f.areaId, limit: 500 }) : Promise.resolve(null)), [f.areaId]);
  const library = useLoad(() => api.contentList({ source: 'upload', limit: 200 }), []);
  const sources = useLoad(() => (f.areaId ? api.relaySources(f.areaId) : Promise.resolve(null)), [f.areaId]);
  // Errors found before sending show only after a first "Lưu": a fresh form is not a page of red.
  const errors = tries ? { ...local.errors, ...err.errors } : err.errors;
  const d = dict();
  const words = local.body ? [scheduleWords(local.body.schedule, d), rangeWords(local.body.schedule, d)].filter(Boolean).join('. ') : '';
  const formRef = useRef<HTMLFormElement>(null);
  useLayoutEffect(() => {
    if (tries) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], .field-error, [data-testid=save-problems]')?.scrollIntoView({ block: 'center' });
  }, [tries]);
  const toggle = (list: string[], x: string) => (list.includes(x) ? list.filter((y) => y !== x) : [...list, x]);
  const submit = async (e: Event) => {
    e.preventDefault();
    err.clear();
    setRefused([]);
    setTries((n) => n + 1);
    if (!local.body) return;
    setBusy(true);
    try {
      const p = id ? await api.updateProgramme(id, local.body) : await api.createProgramme(local.body);
      clear();
      navigate('/programmes?saved=' + encodeURIComponent(p.id));
    } catch (ex) {
      const problems = ex instanceof ApiError ? (ex.details as unknown[]).filter(isProblem) : [];
      if (problems.length) setRefused(problems);
      else err.take(ex, (path) => fieldOf(path, f));
    } finally {
      setBusy(false);
    }
  };
  const targetAreas = session.areas.filter((a) => a.id === f.areaId || a.parentId === f.areaId);
  const choices = { onClash: f.onClash, onQuiet: f.onQuiet };
  return (
    <section class="prog-editor">
      <h1>{programme ? t('prog.editTitle', { name: programme.name }) : t('prog.newTitle')}</h1>
      {programme && !can.approve() && <p class="banner warn">{programme.live ? t('prog.editWaits') : t('prog.newWaits')}</p>}
      <form onSubmit={submit} noValidate ref={formRef}>
        <Input label={t('prog.name')} name="name" value={f.name} onValue={(v) => set({ name: v })} error={errors.name} />
        <Select label={t('commune')} name="areaId" value={f.areaId} onValue={(v) => set({ areaId: v, areaIds: [], clusterIds: [] })} options={communes().map((a) => [a.id, a.name])} error={errors.areaId} />
        <fieldset>
          <legend>{t('prog.colour')}</legend>
          <div class="swatches">
            {PALETTE.map((c, i) => (
              <label class="inline swatch">
                <input type="radio" name="colour" checked={f.colour === c} onChange={() => set({ colour: c })} aria-label={t(`prog.c${i}` as Key)} />
                <span class="swatch-chip" style={{ background: c }} aria-hidden="true" />
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('level')}</legend>
          <label class="inline">
            <input type="radio" name="level" checked={f.level === 'normal'} onChange={() => set({ level: 'normal' })} /> {t('prog.levelNormal')}
          </label>
          <label class="inline">
            <input type="radio" name="level" checked={f.level === 'priority'} onChange={() => set({ level: 'priority' })} /> {t('prog.levelPriority')}
          </label>
        </fieldset>
        <ProgrammeItems items={f.items} onChange={(items) => set({ items })} errors={errors} library={library.data} sources={sources.data} />
        <SchedulePicker f={f} set={set} errors={errors} words={words} />
        <fieldset>
          <legend>{t('targets')}</legend>
          <p class="hint">{t('prog.targetsHint')}</p>
          {errors.targets && <p class="field-error" role="alert">{errors.targets}</p>}
          <AreaTargets areas={targetAreas} value={f.areaIds} onToggle={(x) => set({ areaIds: toggle(f.areaIds, x), clusterIds: [] })} />
          {clusters.data && (
            <details>
              <summary>{t('pickClusters')}</summary>
              {clusters.data.items.map((c) => (
                <label class="inline block">
                  <input type="checkbox" checked={f.clusterIds.includes(c.id)} onChange={() => set({ clusterIds: toggle(f.clusterIds, c.id) })} /> {c.name}
                </label>
              ))}
            </details>
          )}
        </fieldset>
        <Input label={t('volume')} type="number" min={0} max={100} hint={t('prog.volumeHint')} value={f.volume} onValue={(v) => set({ volume: v })} error={errors.volume} />
        <PreviewBox state={pv} c={choices} set={set} zone={zone} quietHours={quiet} />
        <Problems problems={refused} c={choices} set={set} zone={zone} quietHours={quiet} testId="save-problems" />
        {refused.length > 0 && <p class="banner error" role="alert">{t('prog.refused')}</p>}
        {err.errors._ && <p class="banner error" role="alert">{err.errors._}</p>}
        {tries > 0 && !local.body && <p class="banner error" role="alert">{t('prog.fixFirst')}</p>}
        <div class="actions">
          <button class="primary" type="submit" disabled={busy}>
            {busy ? t('sending') : t(id ? 'prog.saveChange' : 'prog.save')}
          </button>
          <a class="btn" href="/programmes" onClick={(e) => (e.preventDefault(), navigate('/programmes'))}>
            {t('back')}
          </a>
        </div>
      </form>
    </section>
  );
}

function EditProgramme({ id }: { id: string }) {
  const p = useLoad(() => api.programme(id), [id]);
  if (!p.data) return <Loading error={p.error} />;
  const v = p.data.pending ?? p.data.live;
  return <Form key={id} id={id} programme={p.data} initial={v ? fromInput(v.body) : { ...EMPTY_PROGRAMME, areaId: p.data.areaId }} />;
}

/** /programmes/new and /programmes/:id: a new programme, or a change to one (which waits for approval when an operator makes it). */
export function ProgrammeEditor({ id }: { id?: string }) {
  return id ? <EditProgramme id={id} /> : <Form initial={{ ...EMPTY_PROGRAMME, areaId: communes()[0]?.id ?? '' }} />;
}
