import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { pad } from '../i18n/time.ts';
import { navigate } from '../router.ts';
import { communes, session } from '../session.ts';
import { useDraft } from '../hooks.ts';
import { Input } from '../components/ui.tsx';
import { AreaTargets } from './compose.tsx';
import { LiveMic, liveBlocked, type MicState } from './live-mic.ts';
import './live.css';

type Level = 'normal' | 'priority' | 'emergency';
const LEVELS: [Level, 'mic.levelNormal' | 'mic.levelPriority' | 'mic.levelEmergency'][] = [
  ['normal', 'mic.levelNormal'],
  ['priority', 'mic.levelPriority'],
  ['emergency', 'mic.levelEmergency'],
];

/** m:ss, h:mm:ss from an hour. */
const clock = (ms: number) => {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  return (h ? `${h}:${pad(Math.floor((s % 3600) / 60))}` : `${Math.floor(s / 60)}`) + `:${pad(s % 60)}`;
};

function useMic(): [LiveMic, MicState] {
  const [mic] = useState(() => new LiveMic());
  const [state, setState] = useState(mic.state);
  useEffect(() => {
    const off = mic.subscribe(setState);
    return () => (off(), mic.dispose());
  }, []);
  return [mic, state];
}

/** The microphone's level as heard now: a bar, and a meter for screen readers. */
function Meter({ s }: { s: MicState }) {
  const pct = Math.round(s.level * 100);
  return (
    <div
      class="live-meter"
      role="meter"
      aria-label={t('mic.level')}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      aria-valuetext={Number.isFinite(s.db) ? t('mic.levelDb', { db: fmtNum(Math.round(s.db)) }) : t('mic.silent')}
      data-testid="live-level"
    >
      <div style={{ width: pct + '%' }} class={s.level > 0.9 ? 'hot' : ''} />
    </div>
  );
}

/**
 * The talk button. Push-to-talk: held with a finger, the mouse or the space bar (pointer capture, so sliding off it
 * on a phone does not leave the microphone open; lifting, cancelling or losing the capture all release it); Enter or
 * a screen reader's click toggles it. Open mode: a toggle.
 */
function TalkButton({ mic, s, ptt }: { mic: LiveMic; s: MicState; ptt: boolean }) {
  const btn = useRef<HTMLButtonElement>(null);
  const held = useRef(false);
  const press = (on: boolean) => {
    if (held.current === on) return;
    held.current = on;
    mic.talk(on);
  };
  useEffect(() => {
    if (!ptt) return;
    // The space bar, held, anywhere but a field or another control: a desk microphone is used with the keyboard.
    const ours = (e: KeyboardEvent) => e.code === 'Space' && (e.target === btn.current || e.target === document.body || (e.target as HTMLElement)?.id === 'main');
    const down = (e: KeyboardEvent) => {
      if (!ours(e)) return;
      e.preventDefault();
      if (!e.repeat) press(true);
    };
    const up = (e: KeyboardEvent) => {
      if (!ours(e)) return;
      e.preventDefault();
      press(false);
    };
    // Switching to another app or tab while holding: nobody is holding any more.
    const blur = () => press(false);
    document.addEventListener('keydown', down);
    document.addEventListener('keyup', up);
    addEventListener('blur', blur);
    return () => (document.removeEventListener('keydown', down), document.removeEventListener('keyup', up), removeEventListener('blur', blur));
  }, [ptt]);
  if (!ptt)
    return (
      <button type="button" class={'talk-btn' + (s.talking ? ' on' : '')} aria-pressed={s.talking} onClick={() => mic.talk(!s.talking)} data-testid="talk">
        <span class="talk-icon" aria-hidden="true" />
        {s.talking ? t('mic.openOn') : t('mic.openOff')}
      </button>
    );
  return (
    <>
      <button
        type="button"
        ref={btn}
        class={'talk-btn ptt' + (s.talking ? ' on' : '')}
        aria-pressed={s.talking}
        data-testid="talk"
        onPointerDown={(e) => {
          if (e.button !== 0) return;
          e.preventDefault();
          e.currentTarget.setPointerCapture(e.pointerId);
          press(true);
        }}
        onPointerUp={() => press(false)}
        onPointerCancel={() => press(false)}
        onLostPointerCapture={() => press(false)}
        onContextMenu={(e) => e.preventDefault()}
        onClick={(e) => e.detail === 0 && press(!held.current)}
      >
        <span class="talk-icon" aria-hidden="true" />
        {s.talking ? t('mic.talking') : t('mic.hold')}
      </button>
      <p class="hint wide-only">{t('mic.pttKeys')}</p>
    </>
  );
}

function OnAir({ mic, s, ptt, setPtt }: { mic: LiveMic; s: MicState; ptt: boolean; setPtt: (v: boolean) => void }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const i = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(i);
  }, []);
  // Closing the tab or reloading while on air asks first.
  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => (e.preventDefault(), (e.returnValue = t('mic.leaveWarn')));
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, []);
  const live = s.phase === 'live';
  const emergency = s.session?.level === 'emergency';
  return (
    <div class={'on-air' + (emergency ? ' emergency' : '')} data-testid="on-air">
      <div class={'on-air-state ' + s.phase} role="status" aria-live="polite" data-testid="live-state">
        {live || s.phase === 'dropped' ? <strong class="on-air-word">{emergency ? '⚠ ' : ''}{t('mic.onAir')}</strong> : <strong>{s.phase === 'ending' ? t('mic.ending') : t('mic.waiting')}</strong>}
        <span class="on-air-count" data-testid="on-air-count">
          {t('mic.clustersOnAir', { n: fmtNum(s.onAir), m: fmtNum(s.targeted) })}
        </span>
      </div>
      <p class="on-air-time">
        <span class="sr-only">{t('mic.elapsed')}: </span>
        <span role="timer" data-testid="live-elapsed">
          {clock(performance.now() - s.t0)}
        </span>
        {s.session && <span class="muted small"> · {s.session.title}</span>}
      </p>
      {s.phase === 'dropped' && (
        <div class="banner error" role="alert" data-testid="live-dropped">
          <p>{s.retrying ? t('mic.dropped') : t('mic.droppedManual')}</p>
          <button type="button" class="primary" onClick={() => mic.connect()}>
            {t('mic.reconnect')}
          </button>
        </div>
      )}
      {s.error && s.phase !== 'dropped' && (
        <p class="banner error" role="alert">
          {s.error}
        </p>
      )}
      <TalkButton mic={mic} s={s} ptt={ptt} />
      <Meter s={s} />
      {!s.talking && <p class="hint">{t('mic.muted')}</p>}
      <fieldset class="mode">
        <legend>{t('mic.mode')}</legend>
        <label class="inline">
          <input type="radio" name="live-mode" checked={ptt} onChange={() => (setPtt(true), mic.setPushToTalk(true))} /> {t('mic.modePtt')}
        </label>
        <label class="inline">
          <input type="radio" name="live-mode" checked={!ptt} onChange={() => (setPtt(false), mic.setPushToTalk(false))} /> {t('mic.modeOpen')}
        </label>
      </fieldset>
      <button type="button" class="end-btn" disabled={s.phase === 'ending'} onClick={() => void mic.end()} data-testid="live-end">
        ■ {s.phase === 'ending' ? t('mic.ending') : t('mic.end')}
      </button>
    </div>
  );
}

function Ended({ mic, s }: { mic: LiveMic; s: MicState }) {
  const to = s.session ? '/broadcasts/' + s.session.broadcastId : null;
  return (
    <div class="card" data-testid="live-ended">
      <p role="status">
        <strong>{t(s.endedByServer ? 'mic.endedByServer' : 'mic.ended', { d: clock(s.endedAt - s.t0) })}</strong>
        {s.endedByServer && s.endReason && <span data-testid="live-end-reason"> {t(`mic.why_${s.endReason}`)}</span>}
      </p>
      {s.error && <p class="banner error">{s.error}</p>}
      <div class="actions">
        {to && (
          <a class="btn primary" href={to} onClick={(e) => (e.preventDefault(), navigate(to))}>
            {t('mic.viewBroadcast')}
          </a>
        )}
        <button type="button" onClick={() => mic.reset()}>
          {t('mic.again')}
        </button>
      </div>
    </div>
  );
}

/** /live: the officer speaks through this device's microphone to the chosen clusters (issue 12). */
export function LivePage() {
  const list = communes();
  const [f, setF] = useDraft('live', { title: '', level: 'normal' as Level, areaIds: list[0] ? [list[0].id] : ([] as string[]), ptt: true });
  const [mic, s] = useMic();
  const [local, setLocal] = useState<string | null>(null);
  const blocked = liveBlocked();
  const areas = session.areas.filter((a) => a.kind !== 'province');
  const toggle = (id: string) => setF((p) => ({ ...p, areaIds: p.areaIds.includes(id) ? p.areaIds.filter((x) => x !== id) : [...p.areaIds, id] }));
  const start = () => {
    setLocal(null);
    if (!f.areaIds.length) return setLocal(t('mic.errNoTarget'));
    void mic.start({ level: f.level, targets: { areaIds: f.areaIds }, ...(f.title.trim() ? { title: f.title.trim() } : {}) }, f.ptt);
  };
  const busy = s.phase === 'asking' || s.phase === 'connecting';
  const onAir = ['waiting', 'live', 'dropped', 'ending'].includes(s.phase);
  const fieldErr = (k: string) => (s.errorField === k ? s.error : null);
  return (
    <section class="live-page">
      <h1>{t('mic.title')}</h1>
      {onAir ? (
        <OnAir mic={mic} s={s} ptt={f.ptt} setPtt={(ptt) => setF((p) => ({ ...p, ptt }))} />
      ) : s.phase === 'ended' ? (
        <Ended mic={mic} s={s} />
      ) : (
        <form onSubmit={(e) => (e.preventDefault(), start())} noValidate>
          <p class="hint">{t('mic.intro')}</p>
          <fieldset class="levels">
            <legend>{t('level')}</legend>
            {LEVELS.map(([v, k]) => (
              <label class={'inline level-' + v}>
                <input type="radio" name="level" checked={f.level === v} onChange={() => setF((p) => ({ ...p, level: v }))} /> {v === 'emergency' ? '⚠ ' : ''}
                {t(k)}
              </label>
            ))}
            {f.level === 'emergency' && (
              <p class="banner error" data-testid="emergency-hint">
                {t('mic.emergencyHint')}
              </p>
            )}
            {fieldErr('level') && <p class="field-error">{fieldErr('level')}</p>}
          </fieldset>
          <fieldset>
            <legend>{t('targets')}</legend>
            {(local || fieldErr('targets')) && (
              <p class="field-error" role="alert">
                {local ?? fieldErr('targets')}
              </p>
            )}
            <AreaTargets areas={areas} value={f.areaIds} onToggle={toggle} />
          </fieldset>
          <Input label={t('mic.name')} name="title" placeholder={t('mic.namePh')} value={f.title} onValue={(v) => setF((p) => ({ ...p, title: v }))} error={fieldErr('title')} />
          <fieldset class="mode">
            <legend>{t('mic.mode')}</legend>
            <label class="inline">
              <input type="radio" name="mode" checked={f.ptt} onChange={() => setF((p) => ({ ...p, ptt: true }))} /> {t('mic.modePtt')}
            </label>
            <label class="inline">
              <input type="radio" name="mode" checked={!f.ptt} onChange={() => setF((p) => ({ ...p, ptt: false }))} /> {t('mic.modeOpen')}
            </label>
            <p class="hint">{f.ptt ? t('mic.modePttHint') : t('mic.modeOpenHint')}</p>
          </fieldset>
          {(blocked || (s.error && !s.errorField)) && (
            <p class="banner error" role="alert" data-testid="live-error">
              {blocked ?? s.error}
            </p>
          )}
          <button type="submit" class={'start-btn' + (f.level === 'emergency' ? ' emergency' : '')} disabled={busy || !!blocked} data-testid="live-start">
            {s.phase === 'asking' ? t('mic.asking') : s.phase === 'connecting' ? t('mic.connecting') : f.level === 'emergency' ? t('mic.startEmergency') : t('mic.start')}
          </button>
        </form>
      )}
    </section>
  );
}
