import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { t, getLocale } from '../i18n/index.ts';
import { navigate } from '../router.ts';
import { communes } from '../session.ts';
import { useDraft } from '../hooks.ts';
import { FormError, Select, useFormErrors, Field } from '../components/ui.tsx';

/** Ready-made emergency texts: one tap fills the message. Vietnamese is what airs, whatever the console language. */
const PRESETS = [
  'Khẩn cấp: bão đang đổ bộ. Bà con di chuyển đến nơi trú ẩn an toàn ngay, không ra sông, ra biển.',
  'Khẩn cấp: nước lũ đang lên nhanh. Bà con vùng trũng sơ tán ngay lên chỗ cao.',
  'Khẩn cấp: có cháy lớn trong khu vực. Bà con tránh xa khu vực cháy và làm theo hướng dẫn của lực lượng chức năng.',
];

/** The first words of the message, cut between words. */
const short = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n).replace(/[\s,.;:]+\S*$/, '') + '…');

/** Home → this screen (tap 1) → a preset (tap 2) → confirm (tap 3). The commune is preselected. */
export function Emergency() {
  const list = communes();
  const [f, setF, clear] = useDraft('emergency', { text: '', areaId: list[0]?.id ?? '' });
  const [busy, setBusy] = useState(false);
  const err = useFormErrors();
  const areaId = f.areaId || list[0]?.id || '';
  const send = async () => {
    err.clear();
    setBusy(true);
    try {
      const b = await api.createBroadcast({
        // The level badge says "Khẩn cấp" wherever the title shows: the title starts with what happens.
        title: capitalise(short(f.text.trim().replace(/^khẩn cấp\s*[:\-–]?\s*/iu, '') || f.text.trim(), 80)),
        level: 'emergency',
        source: { tts: { text: f.text, chime: true } },
        targets: { areaIds: [areaId] },
      });
      clear();
      navigate('/broadcasts/' + b.id);
    } catch (e) {
      err.take(e, (p) => (p.includes('text') || p.includes('title') ? 'text' : p.includes('targets') ? 'areaId' : null));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="emergency">
      <h1>⚠ {t('emergencyTitle')}</h1>
      <FormError msg={err.errors._} />
      {list.length > 1 ? (
        <Select label={t('commune')} value={areaId} onValue={(v) => setF({ ...f, areaId: v })} options={list.map((a) => [a.id, a.name])} error={err.errors.areaId} />
      ) : (
        <p>
          {t('commune')}: <strong>{list[0]?.name}</strong>
        </p>
      )}
      <fieldset>
        <legend>{t('presets')}</legend>
        {PRESETS.map((p, i) => (
          <button type="button" class={'preset' + (f.text === p ? ' chosen' : '')} aria-pressed={f.text === p} onClick={() => setF({ ...f, text: p })} data-testid={'preset-' + i}>
            {p}
          </button>
        ))}
      </fieldset>
      <Field label={t('emergencyText')} error={err.errors.text}>
        {(id, d) => <textarea id={id} aria-describedby={d} rows={4} value={f.text} onInput={(e) => setF({ ...f, text: e.currentTarget.value })} lang="vi" />}
      </Field>
      <button type="button" class="emergency-btn" disabled={busy || !f.text.trim() || !areaId} onClick={send}>
        {busy ? t('sending') : t('confirmAir')}
      </button>
      {getLocale() === 'en' && <p class="muted small">The message airs in Vietnamese as typed.</p>}
    </section>
  );
}

const capitalise = (s: string) => s.charAt(0).toLocaleUpperCase('vi') + s.slice(1);
