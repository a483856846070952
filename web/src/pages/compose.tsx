import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, uploadAudio, type Area, type Content, type CreateBroadcast, type Problem } from '../api/client.ts';
import { t, errorText, messageText, type Key } from '../i18n/index.ts';
import { fmtDate, fmtDateTime, fmtTime, fromWall, parseDate, parseTime, wall } from '../i18n/time.ts';
import { navigate } from '../router.ts';
import { session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { lazy } from '../components/lazy.tsx';
import { Field, Input, Progress, Select, useFormErrors } from '../components/ui.tsx';

// The microphone recorder is fetched when the audio source is chosen.
const Recorder = lazy(() => import('../components/recorder.tsx').then((m) => m.Recorder));

const EMPTY = {
  title: '',
  level: 'normal' as 'normal' | 'priority',
  kind: 'tts' as 'tts' | 'audio' | 'relay',
  text: '',
  contentId: '',
  relaySourceId: '',
  relayMin: '30',
  areaIds: [] as string[],
  clusterIds: [] as string[],
  outputs: {} as Record<string, number[]>,
  startDate: '',
  startTime: '',
  voice: '',
  speed: '1',
  repeatCount: '1',
  intervalMin: '0',
  volume: '',
};

const SPEEDS = ['0.8', '0.9', '1', '1.1', '1.25'];
const VOICE_NAMES: Record<string, Key> = { vi: 'voice_north', 'vi-vn-x-central': 'voice_central', 'vi-vn-x-south': 'voice_south' };

/**
 * The start time as typed: day dd/MM/yyyy and time HH:mm (24 h), wall clock of the station. Both empty = now; a
 * time alone = today. Returns the instant, or the field to blame.
 */
export function startInstant(date: string, time: string): { ms?: number; error?: ['startDate' | 'startTime', string] } {
  if (!date.trim() && !time.trim()) return {};
  const tm = parseTime(time);
  if (!tm) return { error: ['startTime', t(time.trim() ? 'v_time' : 'v_required')] };
  const d = date.trim() ? parseDate(date) : wall(Date.now());
  if (!d) return { error: ['startDate', t('v_date')] };
  return { ms: fromWall({ y: d.y, M: d.M, d: d.d, h: tm.h, m: tm.m }) };
}

/**
 * What the synthesiser will say, under the text as the operator types: a dry run (POST /tts/normalise) once typing
 * pauses, an answer overtaken by more typing dropped. The commune's own readings apply as they will on air.
 */
function SpokenText({ text, voice, speed, communeId }: { text: string; voice?: string; speed?: number; communeId?: string }) {
  const [spoken, setSpoken] = useState<{ text?: string; error?: string }>({});
  const empty = !text.trim();
  useEffect(() => {
    if (empty) return setSpoken({});
    const ctl = new AbortController();
    const timer = setTimeout(() => {
      api.ttsNormalise({ text, voice, speed, communeId }, ctl.signal).then(
        (r) => setSpoken({ text: r.normalisedText }),
        (e) => ctl.signal.aborted || setSpoken({ error: errorText(e) }),
      );
    }, 350);
    return () => (clearTimeout(timer), ctl.abort());
  }, [text, voice, speed, communeId]);
  if (empty) return null;
  return (
    <blockquote aria-live="polite">
      <p class="hint">{t('willRead')}</p>
      {spoken.error ? <p class="field-error">{spoken.error}</p> : <p lang="vi" data-testid="tts-normalised">{spoken.text ?? '…'}</p>}
    </blockquote>
  );
}

/** When the server refused an airing in quiet hours: the first start it would accept, else null. */
function quietNextAllowed(e: unknown): number | null {
  if (!(e instanceof ApiError)) return null;
  const p = (e.details as unknown as Partial<Problem>[]).find((d) => d?.kind === 'quiet_hours' && d.nextAllowed);
  return p ? Date.parse(p.nextAllowed!) : null;
}

/** Targets grouped by commune, hamlets under their commune. */
export function AreaTargets({ areas, value, onToggle }: { areas: Area[]; value: string[]; onToggle: (id: string) => void }) {
  const communes = areas.filter((a) => a.kind === 'commune');
  const box = (a: Area) => (
    <label class="inline">
      <input type="checkbox" checked={value.includes(a.id)} onChange={() => onToggle(a.id)} /> {a.kind === 'commune' ? <strong>{a.name}</strong> : a.name}
    </label>
  );
  return (
    <div class="checks">
      {communes.map((c) => (
        <div class="area-group">
          {box(c)}
          <div class="hamlets">{areas.filter((a) => a.parentId === c.id).map(box)}</div>
        </div>
      ))}
    </div>
  );
}

/** Normal and priority bulletins. The whole form is a draft: an error or a dropped link loses nothing. */
export function Compose() {
  const [f, setF, clear] = useDraft('compose', EMPTY);
  const set = (patch: Partial<typeof EMPTY>) => setF((p) => ({ ...p, ...patch }));
  const err = useFormErrors();
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<{ busy: boolean; url?: string; error?: string }>({ busy: false });
  const [upload, setUpload] = useState<{ pct: number; content?: Content; error?: string } | null>(null);
  const areaForClusters = f.areaIds.length === 1 ? f.areaIds[0] : '';
  const clusters = useLoad(() => (areaForClusters ? api.clusters({ areaId: areaForClusters }) : Promise.resolve(null)), [areaForClusters]);
  const voices = useLoad(() => api.voices(), []);
  const relaySources = useLoad(() => (f.kind === 'relay' ? api.relaySources() : Promise.resolve(null)), [f.kind]);
  const engine = voices.data?.find((e) => e.default) ?? voices.data?.[0];
  const start = startInstant(f.startDate, f.startTime);
  const tts = () => ({ voice: f.voice || undefined, speed: f.speed === '1' ? undefined : Number(f.speed) });
  // The readings that will apply on air are those of the commune it airs in (the first chosen place's commune).
  const firstArea = session.areas.find((a) => a.id === f.areaIds[0]);
  const communeId = firstArea ? (firstArea.kind === 'commune' ? firstArea.id : firstArea.parentId ?? undefined) : undefined;
  // From the recordings library ("Dùng để phát"): /compose?content=<id> starts an audio bulletin with that file.
  useEffect(() => {
    const id = new URLSearchParams(location.search).get('content');
    if (id) set({ kind: 'audio', contentId: id });
  }, []);
  // After a refused "Gửi phát" the message is next to the button, and the first field at fault is brought into
  // view: on a phone the top of the form is a screen away and nothing would seem to happen.
  const formRef = useRef<HTMLFormElement>(null);
  const [tries, setTries] = useState(0);
  useLayoutEffect(() => {
    if (!tries) return;
    const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], .field-error');
    first?.scrollIntoView({ block: 'center' });
    if (first instanceof HTMLInputElement || first instanceof HTMLTextAreaElement || first instanceof HTMLSelectElement) first.focus({ preventScroll: true });
  }, [tries]);
  const firstError = err.errors._ ?? Object.values(err.errors)[0];
  // Offered after a refusal for quiet hours; any change to the form makes it stale, so it goes.
  const [moveTo, setMoveTo] = useState<number | null>(null);
  useEffect(() => setMoveTo(null), [f]);

  const doPreview = async () => {
    setPreview({ busy: true });
    try {
      const c = await api.ttsPreview({ text: f.text, ...tts(), chime: { before: true, after: true } });
      setPreview({ busy: false, url: `/api/content/${c.id}/audio` });
    } catch (e) {
      setPreview({ busy: false, error: errorText(e) });
    }
  };
  const doUpload = async (file: File) => {
    setUpload({ pct: 0 });
    try {
      let c = await uploadAudio(file, (pct) => setUpload({ pct }));
      setUpload({ pct: 100, content: c });
      while (c.state === 'uploading' || c.state === 'transcoding') {
        await new Promise((r) => setTimeout(r, 700));
        c = await api.content(c.id);
        setUpload({ pct: 100, content: c });
      }
      if (c.state === 'ready') set({ contentId: c.id });
    } catch (e) {
      setUpload({ pct: 0, error: errorText(e) });
      throw e; // the recorder keeps a take whose upload failed, so it can be sent again
    }
  };
  const toggle = (list: string[], id: string) => (list.includes(id) ? list.filter((x) => x !== id) : [...list, id]);
  const submit = (e: Event) => {
    e.preventDefault();
    void send();
  };
  const send = async (onQuietHours?: 'move') => {
    err.clear();
    setMoveTo(null);
    const intervalMin = Number(String(f.intervalMin).replace(',', '.')) || 0;
    if (start.error) return (err.set({ [start.error[0]]: start.error[1] }), setTries((n) => n + 1));
    if (intervalMin < 0 || intervalMin > 1440) return (err.set({ intervalMin: t('v_interval') }), setTries((n) => n + 1));
    const relayMin = Number(String(f.relayMin).replace(',', '.'));
    if (f.kind === 'relay' && !f.relaySourceId) return (err.set({ relaySource: t('relay.v_pick') }), setTries((n) => n + 1));
    if (f.kind === 'relay' && !(relayMin >= 1 && relayMin <= 360)) return (err.set({ relayMin: t('relay.v_duration', { min: 1 }) }), setTries((n) => n + 1));
    setBusy(true);
    const outputs = Object.entries(f.outputs)
      .filter(([, o]) => o.length)
      .map(([clusterId, o]) => ({ clusterId, outputs: o }));
    const body: CreateBroadcast = {
      title: f.title,
      level: f.level,
      source:
        f.kind === 'tts'
          ? { tts: { text: f.text, chime: true, ...tts() } }
          : f.kind === 'relay'
            ? { relay: { sourceId: f.relaySourceId, durationS: Math.round(relayMin * 60) } }
            : { contentId: f.contentId },
      targets: f.clusterIds.length || outputs.length ? { clusterIds: f.clusterIds.length ? f.clusterIds : undefined, outputs: outputs.length ? outputs : undefined } : { areaIds: f.areaIds },
      startAt: start.ms !== undefined ? new Date(start.ms).toISOString() : undefined,
      repeat: { count: Number(f.repeatCount) || 1, intervalS: Math.round(intervalMin * 60) },
      volume: f.volume === '' ? undefined : Number(f.volume),
      ...(onQuietHours && { onQuietHours }),
    };
    try {
      const b = await api.createBroadcast(body);
      clear();
      navigate('/broadcasts/' + b.id);
    } catch (ex) {
      setMoveTo(quietNextAllowed(ex));
      err.take(ex, (p) => {
        const s = p.replace(/^body\//, '');
        if (s.startsWith('source/tts/voice')) return 'voice';
        if (s.startsWith('source/tts/speed')) return 'speed';
        if (s.startsWith('source/relay/durationS')) return 'relayMin';
        if (s.startsWith('source/relay')) return 'relaySource';
        if (s.startsWith('source')) return f.kind === 'tts' ? 'text' : f.kind === 'relay' ? 'relaySource' : 'contentId';
        if (s.startsWith('startAt')) return 'startTime';
        if (s.startsWith('repeat/count')) return 'repeatCount';
        if (s.startsWith('repeat')) return 'intervalMin';
        if (s.startsWith('targets')) return 'targets';
        return s.split('/')[0];
      });
      setTries((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };
  const areas = session.areas.filter((a) => a.kind !== 'province');
  return (
    <section>
      <h1>{t('compose')}</h1>
      <form onSubmit={submit} noValidate ref={formRef}>
        <Input label={t('title')} name="title" value={f.title} onValue={(v) => set({ title: v })} error={err.errors.title} />
        <Select label={t('level')} name="level" value={f.level} onValue={(v) => set({ level: v as 'normal' })} options={[['normal', t('normal')], ['priority', t('priority')]]} />
        <fieldset>
          <legend>{t('source')}</legend>
          <label class="inline">
            <input type="radio" name="kind" checked={f.kind === 'tts'} onChange={() => set({ kind: 'tts' })} /> {t('sourceText')}
          </label>
          <label class="inline">
            <input type="radio" name="kind" checked={f.kind === 'audio'} onChange={() => set({ kind: 'audio' })} /> {t('sourceAudio')}
          </label>
          <label class="inline">
            <input type="radio" name="kind" checked={f.kind === 'relay'} onChange={() => set({ kind: 'relay' })} /> {t('relay.source')}
          </label>
          {f.kind === 'relay' ? (
            <>
              <Field label={t('relay.pick')} error={err.errors.relaySource}>
                {(id, d) => (
                  <select id={id} name="relaySource" aria-describedby={d} value={f.relaySourceId} onChange={(e) => (set({ relaySourceId: e.currentTarget.value }), err.drop('relaySource'))}>
                    <option value="">{t('relay.pickPh')}</option>
                    {(relaySources.data ?? []).map((r) => (
                      <option value={r.id}>{session.areas.filter((a) => a.kind === 'commune').length > 1 ? `${r.name} (${r.areaName})` : r.name}</option>
                    ))}
                  </select>
                )}
              </Field>
              {relaySources.data && !relaySources.data.length && <p class="hint">{t('relay.noSources')}</p>}
              <Input label={t('relay.duration')} name="relayMin" inputMode="numeric" autocomplete="off" hint={t('relay.durationHint')} value={f.relayMin} onValue={(v) => (set({ relayMin: v }), err.drop('relayMin'))} error={err.errors.relayMin} />
            </>
          ) : f.kind === 'tts' ? (
            <>
              <Field label={t('text')} error={err.errors.text}>
                {(id, d) => <textarea id={id} name="text" aria-describedby={d} rows={5} lang="vi" value={f.text} onInput={(e) => set({ text: e.currentTarget.value })} />}
              </Field>
              <SpokenText text={f.text} {...tts()} communeId={communeId} />
              <div class="grid-wide">
                <Select
                  label={t('voice')}
                  name="voice"
                  value={f.voice || engine?.voices[0] || ''}
                  onValue={(v) => set({ voice: v === engine?.voices[0] ? '' : v })}
                  options={(engine?.voices ?? []).map((v) => [v, VOICE_NAMES[v] ? t(VOICE_NAMES[v]) : v])}
                  error={err.errors.voice}
                />
                <Select label={t('speed')} name="speed" value={f.speed} onValue={(v) => set({ speed: v })} options={SPEEDS.map((v) => [v, t(('speed_' + v.replace('.', '_')) as Key)])} error={err.errors.speed} />
              </div>
              <button type="button" onClick={doPreview} disabled={!f.text.trim() || preview.busy}>
                {preview.busy ? t('previewing') : '▶ ' + t('preview')}
              </button>
              {preview.error && <p class="field-error">{preview.error}</p>}
              {preview.url && <audio controls autoplay src={preview.url} data-testid="tts-audio" />}
            </>
          ) : (
            <>
              <Field label={t('uploadFile')} error={err.errors.contentId ?? upload?.error}>
                {(id, d) => <input id={id} type="file" accept="audio/*" aria-describedby={d} onChange={(e) => e.currentTarget.files?.[0] && doUpload(e.currentTarget.files[0]).catch(() => {})} />}
              </Field>
              <Recorder onRecorded={doUpload} />
              {upload && !upload.error && (
                <div data-testid="upload-status">
                  {/* The upload bar gives way once the file is on the server: what follows is conversion, then ready. */}
                  {!upload.content ? <Progress value={upload.pct} label={t('uploading')} /> : upload.content.state !== 'ready' && <p class="muted small">{t('uploadDone')}</p>}
                  {upload.content && (
                    <p role="status">
                      {upload.content.state === 'transcoding' || upload.content.state === 'uploading' ? (
                        <Progress value={upload.content.progress ?? 0} label={t('transcoding')} />
                      ) : (
                        <strong data-testid="content-state">{t(upload.content.state === 'ready' ? 'ready' : 'failed')}</strong>
                      )}
                      {upload.content.error && ' — ' + messageText(upload.content.error)}
                    </p>
                  )}
                </div>
              )}
              {f.contentId && <audio controls preload="none" src={`/api/content/${f.contentId}/audio`} />}
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>{t('targets')}</legend>
          {err.errors.targets && <p class="field-error" role="alert">{err.errors.targets}</p>}
          <AreaTargets areas={areas} value={f.areaIds} onToggle={(id) => set({ areaIds: toggle(f.areaIds, id), clusterIds: [], outputs: {} })} />
          {clusters.data && (
            <details>
              <summary>{t('pickClusters')}</summary>
              {clusters.data.items.map((c) => (
                <div class="cluster-pick">
                  <label class="inline">
                    <input type="checkbox" checked={f.clusterIds.includes(c.id)} onChange={() => set({ clusterIds: toggle(f.clusterIds, c.id) })} /> {c.name}
                  </label>
                  <span class="outs">
                    {c.outputs.map((o) => (
                      <label class="inline small">
                        <input
                          type="checkbox"
                          checked={(f.outputs[c.id] ?? []).includes(o.index)}
                          onChange={() => {
                            const cur = f.outputs[c.id] ?? [];
                            set({ outputs: { ...f.outputs, [c.id]: cur.includes(o.index) ? cur.filter((x) => x !== o.index) : [...cur, o.index] } });
                          }}
                        />
                        {o.label}
                      </label>
                    ))}
                  </span>
                </div>
              ))}
            </details>
          )}
        </fieldset>
        <fieldset>
          <legend>{t('startAt')}</legend>
          <div class="grid3">
            <Input label={t('startDate')} name="startDate" inputMode="decimal" autocomplete="off" pattern={'\\d{1,2}[\\/.\\-]\\d{1,2}[\\/.\\-]\\d{4}|\\d{8}'} placeholder={fmtDate(wall(Date.now()))} hint={t('startDateHint', { today: fmtDate(wall(Date.now())) })} value={f.startDate} onValue={(v) => (set({ startDate: v }), err.drop('startDate'))} error={err.errors.startDate} />
            <Input label={t('startTime')} name="startTime" inputMode="decimal" autocomplete="off" pattern={'\\d{1,2}[:hH.]?\\d{2}'} placeholder="17:30" hint={t('startTimeHint')} value={f.startTime} onValue={(v) => (set({ startTime: v }), err.drop('startTime'))} error={err.errors.startTime} />
          </div>
          <p class="muted small" role="status" data-testid="start-summary">
            {start.ms !== undefined ? t('startsAt', { when: fmtDateTime(start.ms) }) : !start.error ? t('startsNow') : ''}
          </p>
        </fieldset>
        <div class="grid3">
          <Input label={t('repeat')} type="number" min={1} max={50} value={f.repeatCount} onValue={(v) => set({ repeatCount: v })} error={err.errors.repeatCount} />
          <Input label={t('interval')} inputMode="decimal" autocomplete="off" value={f.intervalMin} onValue={(v) => (set({ intervalMin: v }), err.drop('intervalMin'))} error={err.errors.intervalMin} />
          <Input label={t('volume')} type="number" min={0} max={100} value={f.volume} onValue={(v) => set({ volume: v })} error={err.errors.volume} />
        </div>
        {firstError && (
          <p class="banner error" role="alert" data-testid="submit-error">
            {firstError}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('sending') : t('submit')}
        </button>
        {moveTo !== null && (
          <button type="button" data-testid="quiet-move" disabled={busy} onClick={() => send('move')}>
            {t('quiet_move', { time: fmtTime(wall(moveTo)), date: fmtDate(wall(moveTo)) })}
          </button>
        )}
      </form>
    </section>
  );
}
