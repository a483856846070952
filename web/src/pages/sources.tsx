import { useState } from 'preact/hooks';
import type { ContentListItem } from '../../../schemas/api/content.ts';
import { api, type RelaySource, type RelaySourceInput } from '../api/client.ts';
import { errorText, t } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { fmtTimeDay } from '../i18n/time.ts';
import { can, communes } from '../session.ts';
import { useLoad } from '../hooks.ts';
import { Field, Input, Loading, Select, useFormErrors } from '../components/ui.tsx';
import { SwitchList, inputText } from '../components/live-words.tsx';
import './live.css';

interface Draft {
  areaId: string;
  name: string;
  primaryUrl: string;
  backupUrls: string[];
  fillerContentId: string;
  stallS: string;
  retryS: string;
}
const blank = (areaId: string): Draft => ({ areaId, name: '', primaryUrl: '', backupUrls: [], fillerContentId: '', stallS: '5', retryS: '30' });
const draftOf = (r: RelaySource): Draft => ({ areaId: r.areaId, name: r.name, primaryUrl: r.primaryUrl, backupUrls: [...r.backupUrls], fillerContentId: r.fillerContentId ?? '', stallS: String(r.stallS), retryS: String(r.retryS) });

/** 'body/backupUrls/1' → 'backup1'; 'body/primaryUrl' → 'primaryUrl'. */
const fieldOf = (path: string) => {
  const s = path.replace(/^body\//, '');
  const m = s.match(/^backupUrls\/(\d+)/);
  return m ? 'backup' + m[1] : s.split('/')[0];
};

/** Add or edit one source; the server's refusal is shown next to the field it names. */
function SourceForm({ initial, id, library, onDone }: { initial: Draft; id?: string; library: ContentListItem[]; onDone: (msg: string) => void }) {
  const [f, setF] = useState(initial);
  const set = (p: Partial<Draft>) => setF((x) => ({ ...x, ...p }));
  const err = useFormErrors();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    err.clear();
    const bad: Record<string, string> = {};
    const num = (v: string, key: string, min: number, max: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) bad[key] = t('v_gte', { n: min });
      else if (n > max) bad[key] = t('v_lte', { n: max });
      return n;
    };
    const stallS = num(f.stallS, 'stallS', 2, 60);
    const retryS = num(f.retryS, 'retryS', 5, 600);
    if (Object.keys(bad).length) return err.set(bad);
    const body = { name: f.name.trim(), primaryUrl: f.primaryUrl.trim(), backupUrls: f.backupUrls.map((u) => u.trim()).filter(Boolean), fillerContentId: f.fillerContentId || null, stallS, retryS };
    setBusy(true);
    try {
      const r = id ? await api.updateRelaySource(id, body) : await api.createRelaySource({ ...body, areaId: f.areaId || list[0]?.id || '' } as RelaySourceInput);
      onDone(t(id ? 'src.savedN' : 'src.added', { name: r.name }));
    } catch (ex) {
      err.take(ex, fieldOf);
    } finally {
      setBusy(false);
    }
  };
  const list = communes();
  return (
    <form onSubmit={submit} noValidate class="card" data-testid="source-form">
      <h2>{id ? t('src.editN', { name: initial.name }) : t('src.add')}</h2>
      {!id && list.length > 1 && <Select label={t('commune')} value={f.areaId} onValue={(v) => set({ areaId: v })} options={list.map((a) => [a.id, a.name])} error={err.errors.areaId} />}
      {!id && list.length <= 1 && err.errors.areaId && <p class="banner error" role="alert">{err.errors.areaId}</p>}
      <Input label={t('src.name')} name="name" placeholder={t('src.nameEg')} value={f.name} onValue={(v) => (set({ name: v }), err.drop('name'))} error={err.errors.name} />
      <Input label={t('src.primary')} name="primaryUrl" type="url" inputMode="url" autocomplete="off" placeholder="https://" hint={t('src.urlHint')} value={f.primaryUrl} onValue={(v) => (set({ primaryUrl: v }), err.drop('primaryUrl'))} error={err.errors.primaryUrl} />
      <fieldset>
        <legend>{t('src.backupsHint')}</legend>
        {f.backupUrls.map((u, i) => (
          <div class="backup-row">
            <Input label={t('src.backupN', { n: i + 1 })} type="url" inputMode="url" autocomplete="off" placeholder="https://" value={u} onValue={(v) => (set({ backupUrls: f.backupUrls.map((x, j) => (j === i ? v : x)) }), err.drop('backup' + i))} error={err.errors['backup' + i]} />
            <button type="button" aria-label={t('src.removeBackupN', { n: i + 1 })} onClick={() => set({ backupUrls: f.backupUrls.filter((_, j) => j !== i) })}>
              ×
            </button>
          </div>
        ))}
        {err.errors.backupUrls && <p class="field-error" role="alert">{err.errors.backupUrls}</p>}
        <button type="button" disabled={f.backupUrls.length >= 5} onClick={() => set({ backupUrls: [...f.backupUrls, ''] })}>
          + {t('src.addBackup')}
        </button>
      </fieldset>
      <Field label={t('src.filler')} hint={t('src.fillerHint')} error={err.errors.fillerContentId}>
        {(fid, d) => (
          <select id={fid} aria-describedby={d} value={f.fillerContentId} onChange={(e) => set({ fillerContentId: e.currentTarget.value })}>
            <option value="">{t('src.fillerNone')}</option>
            {library.map((c) => (
              <option value={c.id}>{c.title || c.originalName || t('untitled')}</option>
            ))}
          </select>
        )}
      </Field>
      <div class="grid3">
        <Input label={t('src.stall')} type="number" min={2} max={60} hint={t('src.stallHint')} value={f.stallS} onValue={(v) => (set({ stallS: v }), err.drop('stallS'))} error={err.errors.stallS} />
        <Input label={t('src.retry')} type="number" min={5} max={600} hint={t('src.retryHint')} value={f.retryS} onValue={(v) => (set({ retryS: v }), err.drop('retryS'))} error={err.errors.retryS} />
      </div>
      {err.errors._ && (
        <p class="banner error" role="alert">
          {err.errors._}
        </p>
      )}
      <div class="actions">
        <button class="primary" type="submit" disabled={busy}>
          {busy ? t('sending') : id ? t('save') : t('src.saveNew')}
        </button>
        <button type="button" onClick={() => onDone('')}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

/** What a source's ingest carries now: the input, since when, who listens, the latest switches. */
export function SourceLive({ r }: { r: RelaySource }) {
  const l = r.live;
  if (!l) return <p class="src-live muted small" data-testid="source-live">{t('src.idle')}</p>;
  return (
    <div class={'src-live ' + (l.input === 'primary' ? 'on' : 'fallback')} data-testid="source-live" data-input={l.input}>
      <p>
        <strong>{t('src.carries', { input: inputText(l.input, l.backup) })}</strong> <span class="muted small">{t('src.since', { when: fmtTimeDay(l.since) })}</span>
        <br />
        {t('src.listeners', { n: fmtNum(l.listeners) })}
      </p>
      <h3 class="small">{t('src.switches')}</h3>
      <SwitchList switches={l.switches} />
    </div>
  );
}

/** /sources: the relay sources of each commune, with what each carries now (refreshed by the live events). */
export function Sources() {
  const list = communes();
  // Until the officer picks one, the first commune: the area list may arrive after this page first renders.
  const [picked, setAreaId] = useState('');
  const areaId = picked || list[0]?.id || '';
  const sources = useLoad(() => api.relaySources(areaId || undefined), [areaId], ['live']);
  const library = useLoad(() => (can.broadcast() ? api.contentList({ limit: 200 }) : Promise.resolve([])), []);
  const [editing, setEditing] = useState<{ id?: string; draft: Draft } | null>(null);
  const [msg, setMsg] = useState('');
  const [err, setErr] = useState<Record<string, string>>({});
  const lib = (library.data ?? []).filter((c) => c.state === 'ready');
  const done = (m: string) => {
    setEditing(null);
    setMsg(m);
    sources.reload();
  };
  const remove = async (r: RelaySource) => {
    if (!confirm(t('src.deleteConfirm', { name: r.name }))) return;
    try {
      await api.deleteRelaySource(r.id);
      done(t('src.deleted', { name: r.name }));
    } catch (e) {
      setErr({ [r.id]: errorText(e) });
    }
  };
  return (
    <section class="sources-page">
      <h1>{t('src.title')}</h1>
      <p class="hint">{t('src.intro')}</p>
      {list.length > 1 && <Select label={t('commune')} value={areaId} onValue={setAreaId} options={list.map((a) => [a.id, a.name])} />}
      {msg && (
        <p class="banner ok" role="status">
          {msg}
        </p>
      )}
      {editing ? (
        <SourceForm key={editing.id ?? 'new'} id={editing.id} initial={editing.draft} library={lib} onDone={done} />
      ) : (
        can.broadcast() && (
          <button type="button" class="primary" onClick={() => (setMsg(''), setEditing({ draft: blank(areaId) }))}>
            + {t('src.add')}
          </button>
        )
      )}
      {!sources.data ? (
        <Loading error={sources.error} />
      ) : !sources.data.length ? (
        <p class="muted">{t('src.none')}</p>
      ) : (
        <ul class="sources">
          {sources.data.map((r) => (
            <li data-testid="source" data-id={r.id}>
              <span class="src-name">{r.name}</span> <span class="muted small">{r.areaName}</span>
              <code class="src-url small">{r.primaryUrl}</code>
              {r.backupUrls.length > 0 && <span class="muted small">{t('src.backups', { n: fmtNum(r.backupUrls.length) })}</span>}
              <SourceLive r={r} />
              {can.broadcast() && (
                <div class="actions">
                  <button type="button" aria-label={`${t('edit')}: ${r.name}`} onClick={() => (setMsg(''), setEditing({ id: r.id, draft: draftOf(r) }))}>
                    {t('edit')}
                  </button>
                  <button type="button" class="danger" aria-label={`${t('delete')}: ${r.name}`} onClick={() => void remove(r)}>
                    {t('delete')}
                  </button>
                </div>
              )}
              {err[r.id] && (
                <p class="field-error" role="alert">
                  {err[r.id]}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
