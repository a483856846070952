import { useState } from 'preact/hooks';
import { api, type Pronunciation } from '../api/client.ts';
import { errorText, t } from '../i18n/index.ts';
import { communes, session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { FormError, Input, Loading, Select, useFormErrors } from '../components/ui.tsx';

/** Admins and operators edit a commune's list; approvers see and hear it. */
const canEdit = () => ['admin', 'operator'].includes(session.user?.role ?? '');

/** Server paths → this page's fields (body/written, body/spoken; anything else is shown above the form). */
const fieldOf = (p: string) => (p === 'body/written' || p === 'body/spoken' ? p.slice(5) : null);

/** One reading, shown or being edited in place. */
function Row({ entry, onChanged }: { entry: Pronunciation; onChanged: () => void }) {
  const [edit, setEdit] = useState<{ written: string; spoken: string } | null>(null);
  const err = useFormErrors();
  const [listen, setListen] = useState<{ busy?: boolean; url?: string; error?: string }>({});
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await api.updatePronunciation(entry.id, edit!);
      setEdit(null);
      onChanged();
    } catch (ex) {
      err.take(ex, fieldOf);
    }
  };
  const remove = async () => {
    if (!confirm(t('deleteReadingConfirm', { written: entry.written }))) return;
    try {
      await api.deletePronunciation(entry.id);
      onChanged();
    } catch (ex) {
      err.take(ex);
    }
  };
  // Hear the word as the commune now reads it: a preview of the written form, with this commune's list.
  const hear = async () => {
    setListen({ busy: true });
    try {
      const c = await api.ttsPreview({ text: entry.written, communeId: entry.communeId });
      setListen({ url: `/api/content/${c.id}/audio` });
    } catch (ex) {
      setListen({ error: errorText(ex) });
    }
  };
  if (edit) {
    return (
      <li data-testid="reading-edit">
        <form onSubmit={save} noValidate>
          <FormError msg={err.errors._} />
          <Input label={t('written')} value={edit.written} onValue={(v) => (setEdit({ ...edit, written: v }), err.drop('written'))} error={err.errors.written} />
          <Input label={t('spoken')} lang="vi" value={edit.spoken} onValue={(v) => (setEdit({ ...edit, spoken: v }), err.drop('spoken'))} error={err.errors.spoken} />
          <button class="primary" type="submit">{t('save')}</button> <button type="button" onClick={() => (setEdit(null), err.clear())}>{t('cancel')}</button>
        </form>
      </li>
    );
  }
  return (
    <li data-testid="reading">
      <span>
        <strong>{entry.written}</strong> → <span lang="vi">{entry.spoken}</span>
      </span>
      <div>
        <button type="button" onClick={hear} disabled={listen.busy}>{listen.busy ? t('previewing') : '▶ ' + t('preview')}</button>{' '}
        {canEdit() && (
          <>
            <button type="button" onClick={() => setEdit({ written: entry.written, spoken: entry.spoken })}>{t('edit')}</button>{' '}
            <button type="button" onClick={remove}>{t('delete')}</button>
          </>
        )}
      </div>
      <FormError msg={err.errors._} />
      {listen.error && <p class="field-error">{listen.error}</p>}
      {listen.url && <audio controls autoplay src={listen.url} />}
    </li>
  );
}

/**
 * Cách đọc: the commune's own readings of words the synthesiser gets wrong (a hamlet's name, a local word), applied
 * before the built-in rules to every text-to-speech bulletin of the commune.
 */
export function Pronunciations() {
  const mine = communes();
  const [communeId, setCommuneId] = useState(mine[0]?.id ?? '');
  const list = useLoad(() => (communeId ? api.pronunciations(communeId) : Promise.resolve([])), [communeId]);
  const [f, setF, clear] = useDraft('pronunciation', { written: '', spoken: '' });
  const err = useFormErrors();
  const [added, setAdded] = useState('');
  const add = async (e: Event) => {
    e.preventDefault();
    err.clear();
    setAdded('');
    try {
      const p = await api.addPronunciation({ communeId, written: f.written, spoken: f.spoken });
      clear();
      setAdded(t('readingAdded', { written: p.written }));
      list.reload();
    } catch (ex) {
      err.take(ex, fieldOf);
    }
  };
  return (
    <section>
      <h1>{t('pronunciations')}</h1>
      <p class="muted">{t('pronunciationsIntro')}</p>
      {mine.length > 1 && <Select label={t('commune')} name="commune" value={communeId} onValue={setCommuneId} options={mine.map((c) => [c.id, c.name])} />}
      {canEdit() && communeId && (
        <form onSubmit={add} noValidate class="card">
          <FormError msg={err.errors._} />
          <Input label={t('written')} name="written" hint={t('writtenHint')} value={f.written} onValue={(v) => (setF((p) => ({ ...p, written: v })), err.drop('written'))} error={err.errors.written} />
          <Input label={t('spoken')} name="spoken" lang="vi" hint={t('spokenHint')} value={f.spoken} onValue={(v) => (setF((p) => ({ ...p, spoken: v })), err.drop('spoken'))} error={err.errors.spoken} />
          <button class="primary" type="submit">{t('addReading')}</button>
          {added && <p role="status">{added}</p>}
        </form>
      )}
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.length === 0 ? (
        <p class="muted">{t('noReadings')}</p>
      ) : (
        <ul class="list">
          {list.data.map((entry) => (
            <Row key={entry.id} entry={entry} onChanged={list.reload} />
          ))}
        </ul>
      )}
    </section>
  );
}
