import type { ContentListItem } from '../../../schemas/api/content.ts';
import type { RelaySource } from '../api/client.ts';
import { t, type Key } from '../i18n/index.ts';
import { Field, Input } from './ui.tsx';
import { dict, isBlankItem, newItem, type ItemDraft } from './programme-form.ts';
import { durationWords } from './recurrence-words.ts';

type Props = { items: ItemDraft[]; onChange: (items: ItemDraft[]) => void; errors: Record<string, string>; library: ContentListItem[] | null; sources?: RelaySource[] | null };

const KIND_WORDS: Record<ItemDraft['kind'], Key> = { tts: 'prog.itemTts', content: 'prog.itemContent', playlist: 'prog.itemPlaylist', relay: 'relay.source' };

/** A relay of a live upstream ("Tiếp sóng VOV1"): the source and for how many minutes. */
function RelayItem({ it, i, put, sources, error }: { it: ItemDraft; i: number; put: (i: number, p: Partial<ItemDraft>) => void; sources: RelaySource[] | null | undefined; error?: string }) {
  return (
    <>
      <Field label={t('relay.pick')} error={error}>
        {(id, d) => (
          <select id={id} aria-describedby={d} value={it.sourceId ?? ''} onChange={(e) => put(i, { sourceId: e.currentTarget.value })}>
            <option value="">{t('relay.pickPh')}</option>
            {(sources ?? []).map((r) => (
              <option value={r.id}>{r.name}</option>
            ))}
          </select>
        )}
      </Field>
      {sources && !sources.length && <p class="hint">{t('relay.noSources')}</p>}
      <Input label={t('relay.duration')} inputMode="numeric" autocomplete="off" hint={t('relay.durationHint')} value={it.durationMin ?? ''} onValue={(v) => put(i, { durationMin: v })} />
    </>
  );
}

function RecordingSelect({ label, value, onValue, library, error }: { label: string; value: string; onValue: (v: string) => void; library: ContentListItem[]; error?: string }) {
  return (
    <Field label={label} error={error}>
      {(id, d) => (
        <select id={id} aria-describedby={d} value={value} onChange={(e) => onValue(e.currentTarget.value)}>
          <option value="">{t('prog.pickRecording')}</option>
          {library.map((c) => (
            <option value={c.id}>
              {(c.title || c.originalName || t('untitled')) + (c.durationMs ? ` (${durationWords(c.durationMs, dict())})` : '')}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * What the programme airs, in order: typed texts read by the synthesiser, recordings from the library, or several
 * recordings back to back. Moved with "Lên"/"Xuống" buttons rather than dragging, which a phone and a keyboard both do.
 */
export function ProgrammeItems({ items, onChange, errors, library, sources }: Props) {
  const put = (i: number, p: Partial<ItemDraft>) => onChange(items.map((x, j) => (j === i ? { ...x, ...p } : x)));
  const move = (i: number, by: number) => {
    const next = [...items];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    onChange(next);
  };
  const lib = library ?? [];
  const relay = items.some((it) => it.kind === 'relay');
  // A relay is the programme's only item: adding one replaces blank items, and asks before dropping typed ones.
  const addRelay = () => {
    if (items.some((it) => !isBlankItem(it)) && !confirm(t('relay.replaceConfirm'))) return;
    onChange([newItem('relay')]);
  };
  return (
    <fieldset>
      <legend>{t('prog.items')}</legend>
      {errors.items && <p class="field-error" role="alert">{errors.items}</p>}
      <ol class="prog-items">
        {items.map((it, i) => (
          <li class="card" data-testid="prog-item">
            <p class="item-head">
              <strong>{t('prog.itemN', { n: i + 1 })}</strong> · {t(KIND_WORDS[it.kind])}
            </p>
            {it.kind === 'tts' && (
              <Field label={t('text')} error={errors['item' + i]}>
                {(id, d) => <textarea id={id} aria-describedby={d} rows={4} lang="vi" value={it.text} onInput={(e) => put(i, { text: e.currentTarget.value })} />}
              </Field>
            )}
            {it.kind === 'content' && <RecordingSelect label={t('prog.recording')} value={it.contentId} onValue={(v) => put(i, { contentId: v })} library={lib} error={errors['item' + i]} />}
            {it.kind === 'playlist' && (
              <>
                {it.contentIds.map((cid, k) => (
                  <div class="row-between">
                    <RecordingSelect label={t('prog.recordingN', { n: k + 1 })} value={cid} onValue={(v) => put(i, { contentIds: it.contentIds.map((x, j) => (j === k ? v : x)) })} library={lib} />
                    <button type="button" aria-label={t('prog.removeRecordingN', { n: k + 1 })} disabled={it.contentIds.length <= 1} onClick={() => put(i, { contentIds: it.contentIds.filter((_, j) => j !== k) })}>
                      ×
                    </button>
                  </div>
                ))}
                {errors['item' + i] && <p class="field-error" role="alert">{errors['item' + i]}</p>}
                <button type="button" disabled={it.contentIds.length >= 20} onClick={() => put(i, { contentIds: [...it.contentIds, ''] })}>
                  + {t('prog.addRecording')}
                </button>
              </>
            )}
            {it.kind === 'relay' && <RelayItem it={it} i={i} put={put} sources={sources} error={errors['item' + i]} />}
            {it.kind !== 'tts' && it.kind !== 'relay' && library && !library.length && <p class="hint">{t('prog.noLibrary')}</p>}
            <div class="actions">
              <button type="button" disabled={i === 0} aria-label={t('prog.moveUpN', { n: i + 1 })} onClick={() => move(i, -1)}>
                ↑ {t('prog.moveUp')}
              </button>
              <button type="button" disabled={i === items.length - 1} aria-label={t('prog.moveDownN', { n: i + 1 })} onClick={() => move(i, 1)}>
                ↓ {t('prog.moveDown')}
              </button>
              <button type="button" class="danger" disabled={items.length <= 1} aria-label={t('prog.removeItemN', { n: i + 1 })} onClick={() => onChange(items.filter((_, j) => j !== i))}>
                {t('delete')}
              </button>
            </div>
          </li>
        ))}
      </ol>
      <div class="actions">
        {(['tts', 'content', 'playlist'] as const).map((k) => (
          <button type="button" disabled={items.length >= 20 || relay} onClick={() => onChange([...items, newItem(k)])}>
            + {t(KIND_WORDS[k])}
          </button>
        ))}
        <button type="button" disabled={relay} onClick={addRelay}>
          + {t('relay.source')}
        </button>
      </div>
      {relay && <p class="hint">{t('relay.onlyItem')}</p>}
    </fieldset>
  );
}
