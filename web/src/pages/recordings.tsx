import { useEffect, useState } from 'preact/hooks';
import type { ContentListItem, ContentUse } from '../../../schemas/api/content.ts';
import { api, ApiError, uploadAudio, type Content } from '../api/client.ts';
import { errorText, t, type Key } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { fmtDateTime } from '../i18n/time.ts';
import { useLoad } from '../hooks.ts';
import { navigate } from '../router.ts';
import { can } from '../session.ts';
import { Field, Input, Loading, Progress } from '../components/ui.tsx';
import { Recorder, fmtClock } from '../components/recorder.tsx';
import './recordings.css';

/** A phone screen's worth; one more is asked for to know whether there is a next page. */
const PAGE = 20;
const busy = (s: string) => s === 'uploading' || s === 'transcoding';
const titleOf = (c: { title: string | null; originalName: string | null }) => c.title || c.originalName || t('untitled');
/** "«Lịch tiêm chủng» (Đã lên lịch)": the bulletins that hold an item, in the words of the broadcast list. */
const stateWord = (state: string) => {
  const key = ('st_' + state) as Key;
  const word = t(key);
  return word === key ? state : word;
};
const usedText = (uses: ContentUse[]) => t('inUseBy', { list: uses.map((u) => t('inUseItem', { title: u.title, state: stateWord(u.state) })).join(', ') });

function Row({ item, onDeleted }: { item: ContentListItem; onDeleted: (title: string) => void }) {
  const [err, setErr] = useState('');
  const [deleting, setDeleting] = useState(false);
  const title = titleOf(item);
  const inUse = item.usedBy.length > 0;
  const why = 'why-' + item.id;
  const remove = async () => {
    if (!confirm(t('deleteRecordingConfirm', { title }))) return;
    setErr('');
    setDeleting(true);
    try {
      await api.deleteContent(item.id);
      onDeleted(title);
    } catch (e) {
      // Taken by a bulletin since the list was loaded: the 409 names it.
      const uses = e instanceof ApiError && e.status === 409 ? (e.details as unknown as ContentUse[]).filter((u) => u?.broadcastId) : [];
      setErr(uses.length ? usedText(uses) : errorText(e));
      setDeleting(false);
    }
  };
  const compose = `/compose?content=${encodeURIComponent(item.id)}`;
  return (
    <li class="rec-row" data-testid="recording" data-id={item.id}>
      <span class="rec-title">{title}</span>
      <span class="row-meta">
        <span class={'badge ct-' + item.state}>{t(item.state as Key)}</span>
        {item.durationMs !== null && <span>{t('lengthIs', { d: fmtClock(item.durationMs) })}</span>}
        <span>{item.createdByName ? t('uploadedAtBy', { when: fmtDateTime(item.createdAt), name: item.createdByName }) : t('uploadedAt', { when: fmtDateTime(item.createdAt) })}</span>
        <span>{item.lastAiredAt ? t('lastAired', { when: fmtDateTime(item.lastAiredAt) }) : t('neverAired')}</span>
      </span>
      {item.state === 'ready' && <audio controls preload="none" src={`/api/content/${item.id}/audio`} aria-label={title} />}
      {inUse && (
        <p class="hint" id={why}>
          {usedText(item.usedBy)}
        </p>
      )}
      {can.broadcast() && (
        <div class="actions">
          {item.state === 'ready' && (
            <a class="btn primary" href={compose} onClick={(e) => (e.preventDefault(), navigate(compose))}>
              {t('useToAir')}
            </a>
          )}
          <button type="button" class="danger" onClick={remove} disabled={inUse || busy(item.state) || deleting} aria-describedby={inUse ? why : undefined}>
            {t('delete')}
          </button>
        </div>
      )}
      {err && (
        <p class="field-error" role="alert">
          {err}
        </p>
      )}
    </li>
  );
}

/** Ghi âm mới: a take from the microphone, or a file, uploaded into the library and followed until it is ready. */
function AddRecording({ onAdded }: { onAdded: (c: Content) => void }) {
  const [up, setUp] = useState<{ pct: number; content?: Content; error?: string } | null>(null);
  const send = async (file: File) => {
    setUp({ pct: 0 });
    try {
      let c = await uploadAudio(file, (pct) => setUp({ pct }));
      setUp({ pct: 100, content: c });
      while (busy(c.state)) {
        await new Promise((r) => setTimeout(r, 700));
        c = await api.content(c.id);
        setUp({ pct: 100, content: c });
      }
      if (c.state !== 'ready') throw new Error(t('failed') + (c.error ? ' — ' + c.error : ''));
      setUp(null);
      onAdded(c);
    } catch (e) {
      setUp({ pct: 0, error: errorText(e) });
      throw e; // the recorder keeps the take for another try
    }
  };
  return (
    <section class="card" aria-labelledby="new-recording">
      <h2 id="new-recording">{t('newRecording')}</h2>
      <Recorder onRecorded={send} />
      <Field label={t('uploadToLibrary')} error={up?.error}>
        {(id, d) => <input id={id} type="file" accept="audio/*" aria-describedby={d} onChange={(e) => e.currentTarget.files?.[0] && send(e.currentTarget.files[0]).catch(() => {})} />}
      </Field>
      {up && !up.error && (
        <div data-testid="library-upload">
          <Progress value={up.pct} label={t('uploading')} />
          {up.content && busy(up.content.state) && <Progress value={up.content.progress ?? 0} label={t('transcoding')} />}
        </div>
      )}
    </section>
  );
}

/**
 * Thư viện âm thanh: the uploaded recordings, to find by title, hear, reuse in a bulletin ("Dùng để phát" opens the
 * composer with it) and delete once no bulletin waiting to air holds them.
 */
export function Recordings() {
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState('');
  const [page, setPage] = useState(0);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    const h = setTimeout(() => {
      setQ(typed.trim());
      setPage(0);
    }, 300);
    return () => clearTimeout(h);
  }, [typed]);
  // 'broadcast': a bulletin made, cancelled or over changes what holds an item and when it last aired.
  const list = useLoad(() => api.contentList({ source: 'upload', q: q || undefined, limit: PAGE + 1, offset: page * PAGE }), [q, page], ['broadcast']);
  const items = list.data?.slice(0, PAGE) ?? null;
  const more = (list.data?.length ?? 0) > PAGE;
  useEffect(() => {
    if (items && !items.length && page > 0) setPage(page - 1); // the last item of the last page was deleted
    if (!items?.some((c) => busy(c.state))) return;
    const h = setTimeout(list.reload, 1500);
    return () => clearTimeout(h);
  }, [list.data]);
  const go = (p: number) => {
    setPage(p);
    window.scrollTo(0, 0);
  };
  return (
    <section>
      <h1>{t('recordings')}</h1>
      <p class="muted">{t('recordingsIntro')}</p>
      {can.broadcast() && (
        <AddRecording
          onAdded={(c) => {
            setNotice(t('addedToLibrary', { title: titleOf(c) }));
            setTyped('');
            go(0);
            list.reload();
          }}
        />
      )}
      <Input label={t('searchTitle')} hint={t('searchTitleHint')} type="search" name="q" value={typed} onValue={setTyped} autocomplete="off" />
      <p role="status" class={notice ? 'banner ok' : undefined}>
        {notice}
      </p>
      {!items ? (
        <Loading error={list.error} />
      ) : items.length === 0 ? (
        <p class="muted">{q ? t('noRecordingsFound', { q }) : t('noRecordings')}</p>
      ) : (
        <ul class="list" data-testid="recordings">
          {items.map((item) => (
            <Row
              key={item.id}
              item={item}
              onDeleted={(title) => {
                setNotice(t('recordingDeleted', { title }));
                list.reload();
              }}
            />
          ))}
        </ul>
      )}
      {(page > 0 || more) && (
        <nav class="actions rec-pager" aria-label={t('pageN', { n: fmtNum(page + 1) })}>
          <button type="button" onClick={() => go(page - 1)} disabled={page === 0}>
            {t('prevPage')}
          </button>
          <span>{t('pageN', { n: fmtNum(page + 1) })}</span>
          <button type="button" onClick={() => go(page + 1)} disabled={!more}>
            {t('nextPage')}
          </button>
        </nav>
      )}
    </section>
  );
}
