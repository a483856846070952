import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.ts';
import { pad, wall } from '../i18n/time.ts';
// The recorder's styles live with the recordings page; imported here too so the composer gets them when it mounts one.
import '../pages/recordings.css';

/**
 * Containers tried in order: Opus in WebM (Chrome, Edge, Firefox, Android), Opus in Ogg, then AAC in MP4 (Safari,
 * iPhone). The server transcodes any of them to the device format; failing all, the browser picks.
 */
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4;codecs=mp4a.40.2', 'audio/mp4', 'audio/webm'];
const EXT: [RegExp, string][] = [[/webm/, 'webm'], [/ogg/, 'ogg'], [/mp4|aac/, 'm4a'], [/mpeg/, 'mp3'], [/wav/, 'wav']];
/** Plenty for speech from a phone, and a 5-minute take stays ~2.4 MB to upload over 4G; the server re-encodes at 32 kb/s. */
const BITRATE = 64_000;
/** A level below this (about −50 dBFS peak) counts as hearing nothing. */
const HEARD = 0.17;
const SILENT_WARN_MS = 3000;

export const pickMime = (): string | undefined => TYPES.find((m) => MediaRecorder.isTypeSupported?.(m));

/** "ghi-am-03-12-2026-1730.webm": the station's wall clock (as every time in the console), which also becomes the item's title. */
export function takeName(mime: string, at = Date.now()): string {
  const w = wall(at);
  const ext = EXT.find(([re]) => re.test(mime))?.[1] ?? 'webm';
  return `ghi-am-${pad(w.d)}-${pad(w.M)}-${w.y}-${pad(w.h)}${pad(w.m)}.${ext}`;
}

/** m:ss (h:mm:ss from an hour): a clock reading, the same in both languages. */
export function fmtClock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** Why the microphone cannot be used before anything is tried: getUserMedia exists only on https and localhost pages. */
function blocked(): string | null {
  if (!window.isSecureContext) return t('recErrInsecure');
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') return t('recErrUnsupported');
  return null;
}

function micError(e: unknown): string {
  const name = (e as DOMException | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return t('recErrDenied');
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return t('recErrNoMic');
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return t('recErrBusy');
  return t('recErrOther', { msg: (e as Error)?.message ?? String(e) });
}

interface Take {
  file: File;
  durationMs: number;
}
type Phase = 'idle' | 'asking' | 'recording' | 'stopping' | 'review';

/**
 * Records a take from the microphone: a big start/stop button, the elapsed time, a level meter (so the officer sees
 * the microphone hears them), playback of the take, "Ghi lại" and "Dùng bản ghi này".
 *
 * `onRecorded` gets the take as a File. If it returns a promise, the take is kept until it resolves (and kept for
 * another try if it rejects); otherwise the recorder is ready for the next take at once.
 *
 * The take is played back through Web Audio rather than an <audio> element: the console's CSP allows media only
 * from 'self', which a blob: URL is not.
 */
export function Recorder({ onRecorded, maxSeconds = 30 * 60 }: { onRecorded: (file: File) => void | Promise<unknown>; maxSeconds?: number }) {
  const [phase, setPhase] = useState<Phase>('idle');
  const [elapsed, setElapsed] = useState(0);
  const [level, setLevel] = useState(0);
  const [silent, setSilent] = useState(false);
  const [error, setError] = useState<string | null>(() => blocked());
  const [notice, setNotice] = useState('');
  const [take, setTake] = useState<Take | null>(null);
  const [play, setPlay] = useState<{ at: number; of: number } | null>(null);
  const [sending, setSending] = useState(false);
  const live = useRef<{ stream: MediaStream; rec: MediaRecorder; ctx: AudioContext; timer: ReturnType<typeof setInterval> } | null>(null);
  const player = useRef<{ ctx: AudioContext; buf?: AudioBuffer; src?: AudioBufferSourceNode; timer?: ReturnType<typeof setInterval> } | null>(null);

  const release = () => {
    const l = live.current;
    if (!l) return;
    live.current = null;
    clearInterval(l.timer);
    l.stream.getTracks().forEach((tr) => tr.stop()); // the phone's "microphone in use" indicator goes off
    void l.ctx.close().catch(() => {});
    setLevel(0);
  };
  const stopPlayback = () => {
    const p = player.current;
    if (p?.src) {
      p.src.onended = null;
      p.src.stop();
      p.src = undefined;
    }
    clearInterval(p?.timer);
    setPlay(null);
  };
  useEffect(
    () => () => {
      if (live.current?.rec.state === 'recording') live.current.rec.stop();
      release();
      stopPlayback();
      void player.current?.ctx.close().catch(() => {});
    },
    [],
  );

  const start = async () => {
    const why = blocked();
    if (why) return setError(why);
    stopPlayback();
    setError(null);
    setNotice('');
    setPhase('asking');
    // A take being redone stays until the new recording has begun: a refused microphone must not lose it.
    const back = take ? 'review' : 'idle';
    // Made inside the tap, before any await: Safari starts an AudioContext only from a user gesture.
    const ctx = new AudioContext();
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      void ctx.close().catch(() => {});
      setPhase(back);
      return setError(micError(e));
    }
    let rec: MediaRecorder;
    try {
      const mimeType = pickMime();
      rec = new MediaRecorder(stream, mimeType ? { mimeType, audioBitsPerSecond: BITRATE } : { audioBitsPerSecond: BITRATE });
    } catch (e) {
      stream.getTracks().forEach((tr) => tr.stop());
      void ctx.close().catch(() => {});
      setPhase(back);
      return setError(micError(e));
    }
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(analyser);
    void ctx.resume().catch(() => {});
    const samples = new Float32Array(analyser.fftSize);
    const chunks: Blob[] = [];
    const t0 = performance.now();
    let heardAt = t0;
    rec.ondataavailable = (e) => {
      if (e.data.size) chunks.push(e.data);
    };
    rec.onerror = (e) => {
      release();
      setPhase('idle');
      setError(micError((e as Event & { error?: DOMException }).error));
    };
    rec.onstop = () => {
      const durationMs = performance.now() - t0;
      release();
      const type = (rec.mimeType || chunks[0]?.type || 'audio/webm').split(';')[0];
      const blob = new Blob(chunks, { type });
      if (!blob.size) {
        setPhase('idle');
        return setError(t('recErrEmpty'));
      }
      setTake({ file: new File([blob], takeName(type), { type }), durationMs });
      setPhase('review');
    };
    // An interval rather than requestAnimationFrame: it keeps counting (and stops at the limit) with the screen off.
    const timer = setInterval(() => {
      const now = performance.now();
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      const l = peak > 0 ? Math.min(1, Math.max(0, (20 * Math.log10(peak) + 60) / 60)) : 0;
      if (l > HEARD) heardAt = now;
      setLevel(l);
      setSilent(now - heardAt > SILENT_WARN_MS);
      setElapsed(now - t0);
      if (now - t0 >= maxSeconds * 1000 && rec.state === 'recording') {
        setNotice(t('recMax', { d: fmtClock(maxSeconds * 1000) }));
        setPhase('stopping');
        rec.stop();
      }
    }, 100);
    live.current = { stream, rec, ctx, timer };
    setTake(null);
    if (player.current) player.current.buf = undefined;
    rec.start(1000);
    setElapsed(0);
    setSilent(false);
    setPhase('recording');
  };

  const stop = () => {
    const rec = live.current?.rec;
    if (rec?.state !== 'recording') return;
    setPhase('stopping');
    rec.stop();
  };

  const togglePlay = async () => {
    if (!take) return;
    if (play) return stopPlayback();
    const p = (player.current ??= { ctx: new AudioContext() });
    try {
      await p.ctx.resume();
      p.buf ??= await p.ctx.decodeAudioData(await take.file.arrayBuffer());
    } catch (e) {
      return setError(t('recErrOther', { msg: (e as Error)?.message ?? String(e) }));
    }
    const src = p.ctx.createBufferSource();
    src.buffer = p.buf;
    src.connect(p.ctx.destination);
    const began = p.ctx.currentTime;
    const of = p.buf.duration * 1000;
    src.onended = stopPlayback;
    src.start();
    p.src = src;
    p.timer = setInterval(() => setPlay({ at: Math.min(of, (p.ctx.currentTime - began) * 1000), of }), 250);
    setPlay({ at: 0, of });
  };

  const use = async () => {
    if (!take) return;
    stopPlayback();
    const r = onRecorded(take.file);
    const done = () => {
      setTake(null);
      setPhase('idle');
      setElapsed(0);
    };
    if (!(r instanceof Promise)) return done();
    setSending(true);
    try {
      await r;
      done();
    } catch {
      /* the caller shows why; the take stays for another try */
    } finally {
      setSending(false);
    }
  };

  const recording = phase === 'recording' || phase === 'stopping';
  return (
    <div class="recorder" data-testid="recorder">
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {notice && <p role="status">{notice}</p>}
      {phase !== 'review' ? (
        <>
          <div class="rec-controls">
            <button type="button" class={'rec-btn' + (recording ? ' on' : '')} onClick={recording ? stop : start} disabled={phase === 'asking' || phase === 'stopping' || (!!error && !!blocked())}>
              <span class="rec-icon" aria-hidden="true" />
              {phase === 'asking' ? t('recAsking') : recording ? t('recStop') : t('recStart')}
            </button>
            <span class="rec-time" role="timer" aria-label={t('recElapsed')}>
              {fmtClock(elapsed)}
            </span>
          </div>
          <div class="rec-meter" role="meter" aria-label={t('recLevel')} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(level * 100)} data-testid="rec-level">
            <div style={{ width: `${Math.round(level * 100)}%` }} />
          </div>
          {recording && <p class="hint">{t('recRecording')}…</p>}
          {recording && silent && <p class="field-error">{t('recSilent')}</p>}
          {!recording && <p class="hint">{t('recHint')}</p>}
        </>
      ) : (
        take && (
          <>
            <p role="status" data-testid="rec-take">
              {t('recTake', { d: fmtClock(take.durationMs) })}
              {play && ` — ${fmtClock(play.at)} / ${fmtClock(play.of)}`}
            </p>
            <div class="actions">
              <button type="button" onClick={togglePlay}>
                {play ? '■ ' + t('recPlayStop') : '▶ ' + t('recPlay')}
              </button>
              <button type="button" onClick={start} disabled={sending}>
                {t('recRedo')}
              </button>
              <button type="button" class="primary" onClick={use} disabled={sending}>
                {t('recUse')}
              </button>
            </div>
          </>
        )
      )}
    </div>
  );
}
