import { useState } from 'preact/hooks';
import { api, type Broadcast } from '../api/client.ts';
import { t, fmtDateTime } from '../i18n/index.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Loading, Input, useFormErrors, FormError } from '../components/ui.tsx';
import { WillAir } from '../components/broadcast-parts.tsx';

function Item({ b, onDone }: { b: Broadcast; onDone: () => void }) {
  const [f, setF, clear] = useDraft('reject-' + b.id, { reason: '' });
  const [rejecting, setRejecting] = useState(false);
  const err = useFormErrors();
  const src = b.source as any;
  const act = async (fn: () => Promise<unknown>) => {
    err.clear();
    try {
      await fn();
      clear();
      onDone();
    } catch (e) {
      err.take(e);
    }
  };
  return (
    <li class="card" data-testid={'approval-' + b.id}>
      <h2>{b.title}</h2>
      <p class="muted small">
        <span class={'lvl lvl-' + b.level}>{t(b.level === 'emergency' ? 'emergencyLevel' : b.level)}</span> · {t('sentBy', { name: b.createdByName ?? b.createdBy ?? '—' })} · {t('sentAt', { when: fmtDateTime(b.createdAt) })}
      </p>
      <WillAir b={b} />
      {src?.tts?.text && <blockquote lang="vi">{src.tts.text}</blockquote>}
      {b.contentId && <audio controls preload="none" src={`/api/content/${b.contentId}/audio`} />}
      <FormError msg={err.errors._} />
      <div class="actions">
        <button type="button" class="primary" onClick={() => act(() => api.approve(b.id))}>
          {t('approve')}
        </button>
        <button type="button" onClick={() => setRejecting(!rejecting)} aria-expanded={rejecting}>
          {t('reject')}
        </button>
      </div>
      {rejecting && (
        <form onSubmit={(e) => (e.preventDefault(), act(() => api.reject(b.id, f.reason)))} aria-label={t('reject')}>
          <Input label={t('reason')} value={f.reason} onValue={(v) => setF({ reason: v })} error={err.errors.reason} />
          <button type="submit" class="danger">
            {t('reject')}
          </button>
        </form>
      )}
    </li>
  );
}

export function Approvals() {
  const list = useLoad(() => api.broadcasts({ state: 'pending_approval', limit: 100 }), [], ['broadcast']);
  return (
    <section>
      <h1>{t('approvals')}</h1>
      {!list.data ? <Loading error={list.error} /> : list.data.length ? <ul class="plain">{list.data.map((b) => <Item b={b} onDone={list.reload} />)}</ul> : <p class="muted">{t('noPending')}</p>}
    </section>
  );
}
