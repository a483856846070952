/**
 * One live-microphone session from the console (issue 12): the microphone, the level meter, the session on the
 * server, the WebSocket that carries the audio, and the MediaRecorder that fills it. No Preact here; the page
 * renders `state` and calls the methods.
 *
 * Audio path: getUserMedia (echo cancellation, noise suppression, automatic gain: a phone held at arm's length in a
 * commune office) → MediaRecorder, Opus in WebM (Ogg where WebM is not offered), 100 ms chunks sent as binary frames.
 * The first chunk carries the container header, so every connection gets its own recorder (the server decodes each
 * connection on its own). Push-to-talk never stops the recorder: releasing sets `track.enabled = false`, which sends
 * silence, so the container and the server's decoder stay whole.
 */
import { api, ApiError, type LiveSession, type LiveSessionInput } from '../api/client.ts';
import { errorText, messageText, t } from '../i18n/index.ts';

export type Phase = 'idle' | 'asking' | 'connecting' | 'waiting' | 'live' | 'dropped' | 'ending' | 'ended';
export interface MicState {
  phase: Phase;
  /** 0…1 from the RMS of the last 100 ms (−60…0 dBFS); 0 while the track is muted */
  level: number;
  db: number;
  /** the microphone reaches the speakers now (push-to-talk held, or open and not muted) */
  talking: boolean;
  onAir: number;
  targeted: number;
  session: LiveSession | null;
  /** when the session was created, for the elapsed time (performance.now()) */
  t0: number;
  endedAt: number;
  error: string | null;
  /** the form field a refused session names ('targets', 'title', 'level'), to show the error beside it */
  errorField: string | null;
  /** the server ended it (cancelled, time limit, grace after a drop) rather than this page */
  endedByServer: boolean;
  /** why the server ended it, when it says */
  endReason: LiveSession['endReason'];
  retrying: boolean;
}

const MIME = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus'];
/** Speech over 4G: the server re-encodes for the clusters anyway. */
const BITRATE = 32_000;
const SLICE_MS = 100;
/** Automatic reconnects after a drop, within the server's 20 s grace; then the officer presses "Kết nối lại". */
const RETRIES = [1000, 3000, 6000];

export const pickLiveMime = (): string | undefined => (typeof MediaRecorder === 'undefined' ? undefined : MIME.find((m) => MediaRecorder.isTypeSupported?.(m)));

export function micError(e: unknown): string {
  const name = (e as DOMException | null)?.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return t('recErrDenied');
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return t('recErrNoMic');
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return t('recErrBusy');
  return t('recErrOther', { msg: (e as Error)?.message ?? String(e) });
}

/** Why this browser cannot go live, before anything is tried. */
export function liveBlocked(): string | null {
  if (!window.isSecureContext) return t('recErrInsecure');
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined' || typeof WebSocket === 'undefined') return t('recErrUnsupported');
  if (!pickLiveMime()) return t('mic.errUnsupported');
  return null;
}

export const socketUrl = (path: string) => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;

export class LiveMic {
  state: MicState = { phase: 'idle', level: 0, db: -Infinity, talking: false, onAir: 0, targeted: 0, session: null, t0: 0, endedAt: 0, error: null, errorField: null, endedByServer: false, endReason: null, retrying: false };
  private listeners = new Set<(s: MicState) => void>();
  private stream: MediaStream | null = null;
  private ctx: AudioContext | null = null;
  private meter: ReturnType<typeof setInterval> | undefined;
  private ws: WebSocket | null = null;
  private rec: MediaRecorder | null = null;
  private mime = '';
  private retry = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  subscribe(f: (s: MicState) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
  private set(p: Partial<MicState>) {
    this.state = { ...this.state, ...p };
    this.listeners.forEach((f) => f(this.state));
  }

  /** Asks for the microphone, creates the session, connects. Call it from the tap (Safari starts audio only then). */
  async start(input: LiveSessionInput, pushToTalk: boolean): Promise<void> {
    const why = liveBlocked();
    if (why) return this.set({ error: why });
    this.set({ phase: 'asking', error: null, errorField: null, endedByServer: false, onAir: 0, targeted: 0, session: null });
    // Made inside the tap, before any await.
    const ctx = new AudioContext();
    this.ctx = ctx;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    } catch (e) {
      this.release();
      return this.set({ phase: 'idle', error: micError(e) });
    }
    this.mime = pickLiveMime()!;
    this.track().enabled = !pushToTalk;
    this.startMeter(ctx, this.stream);
    this.set({ phase: 'connecting', talking: !pushToTalk });
    let session: LiveSession;
    try {
      session = await api.goLive(input);
    } catch (e) {
      this.release();
      return this.set({ phase: 'idle', error: errorText(e), errorField: e instanceof ApiError && e.field ? e.field.replace(/^body\//, '').split('/')[0] : null });
    }
    this.set({ session, t0: performance.now(), targeted: session.targeted, onAir: session.onAir });
    this.connect();
  }

  /** Push-to-talk pressed or released; in open mode, mute or unmute. */
  talk(on: boolean): void {
    if (!this.stream) return;
    this.track().enabled = on;
    this.set({ talking: on });
  }
  setPushToTalk(ptt: boolean): void {
    this.talk(!ptt);
  }

  /** A new socket and a new recorder (a new container header) for it. */
  connect(): void {
    const s = this.state.session;
    if (!s || !this.stream) return;
    clearTimeout(this.retryTimer);
    this.stopRecorder();
    this.ws?.close();
    const ws = new WebSocket(socketUrl(s.audioPath));
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    if (this.state.phase === 'dropped') this.set({ retrying: true });
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.retry = 0;
      this.set({ phase: this.state.phase === 'live' ? 'live' : 'waiting', error: null, retrying: false });
      const rec = new MediaRecorder(this.stream!, { mimeType: this.mime, audioBitsPerSecond: BITRATE });
      rec.ondataavailable = (e) => {
        if (e.data.size && ws.readyState === WebSocket.OPEN) ws.send(e.data);
      };
      rec.onerror = (e) => this.set({ error: micError((e as Event & { error?: DOMException }).error) });
      rec.start(SLICE_MS);
      this.rec = rec;
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws || typeof e.data !== 'string') return;
      let m: { type?: string; state?: string; onAir?: number; targeted?: number; message?: string; endReason?: LiveSession['endReason'] };
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m.type === 'status') {
        this.set({ onAir: m.onAir ?? this.state.onAir, targeted: m.targeted ?? this.state.targeted });
        if (m.state === 'live' && this.state.phase === 'waiting') this.set({ phase: 'live' });
        if (m.state === 'ended' && this.state.phase !== 'ending') this.finish(true, m.endReason ?? null);
      } else if (m.type === 'error' && m.message) {
        this.set({ error: t('mic.errServer', { msg: messageText(m.message) }) });
        // An error frame before the close: the session is over or not ours; nothing to reconnect to.
        if (/ended|only the officer|must be sent/.test(m.message)) this.finish(true);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopRecorder();
      if (this.state.phase === 'ending' || this.state.phase === 'ended' || this.state.phase === 'idle') return;
      this.set({ phase: 'dropped', retrying: false });
      void this.checkThenRetry();
    };
  }

  /** After a drop: if the server already ended the session, say so; otherwise reconnect a few times by itself. */
  private async checkThenRetry(): Promise<void> {
    const s = this.state.session;
    if (!s) return;
    try {
      const now = await api.liveSession(s.id);
      if (now.state === 'ended') return this.finish(true, now.endReason);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return this.finish(true);
    }
    if (this.state.phase !== 'dropped') return;
    const wait = RETRIES[this.retry++];
    if (wait === undefined) return this.set({ error: t('mic.errSocket') });
    this.set({ retrying: true });
    this.retryTimer = setTimeout(() => this.state.phase === 'dropped' && this.connect(), wait);
  }

  /** "Kết thúc": the server ends the broadcast; the microphone is let go. */
  async end(): Promise<void> {
    const s = this.state.session;
    if (!s || this.state.phase === 'ended' || this.state.phase === 'ending') return;
    this.set({ phase: 'ending' });
    // The last chunk goes before the socket closes.
    this.stopRecorder();
    try {
      await api.endLive(s.id);
    } catch (e) {
      // Already over on the server is fine; anything else is shown, and the microphone is let go all the same.
      if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) this.set({ error: errorText(e) });
    }
    this.finish(false);
  }

  private finish(byServer: boolean, endReason: LiveSession['endReason'] = null): void {
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.stopRecorder();
    ws?.close(1000, 'ended');
    this.release();
    this.set({ phase: 'ended', endedByServer: byServer, endReason, endedAt: performance.now(), talking: false, retrying: false });
  }

  /** Leaving the page: end what is running (nobody would hear a microphone no screen shows). */
  dispose(): void {
    if (this.state.session && !['ended', 'ending', 'idle'].includes(this.state.phase)) {
      const id = this.state.session.id;
      this.finish(false);
      void api.endLive(id).catch(() => {});
    } else {
      this.finish(false);
    }
    this.listeners.clear();
  }

  reset(): void {
    this.set({ phase: 'idle', session: null, error: null, onAir: 0, targeted: 0, endedByServer: false, endReason: null });
  }

  private track(): MediaStreamTrack {
    return this.stream!.getAudioTracks()[0];
  }

  private stopRecorder(): void {
    const rec = this.rec;
    this.rec = null;
    if (rec && rec.state !== 'inactive') {
      try {
        rec.requestData();
        rec.stop();
      } catch {
        /* already stopped */
      }
    }
  }

  /**
   * The meter: RMS of the last 2048 samples every 100 ms (an interval, not animation frames, so it keeps running
   * with the screen off), −60…0 dBFS mapped to 0…1. It reads the same track as the recorder, so a muted track shows
   * nothing: the meter shows what goes on air.
   */
  private startMeter(ctx: AudioContext, stream: MediaStream): void {
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(analyser);
    void ctx.resume().catch(() => {});
    const buf = new Float32Array(analyser.fftSize);
    this.meter = setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      const rms = Math.sqrt(sum / buf.length);
      const db = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
      const level = Number.isFinite(db) ? Math.min(1, Math.max(0, (db + 60) / 60)) : 0;
      if (Math.abs(level - this.state.level) > 0.005 || (level === 0) !== (this.state.level === 0)) this.set({ level, db });
    }, 100);
  }

  private release(): void {
    clearInterval(this.meter);
    this.meter = undefined;
    this.stream?.getTracks().forEach((tr) => tr.stop()); // the phone's "microphone in use" indicator goes off
    this.stream = null;
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
    if (this.state.level) this.set({ level: 0, db: -Infinity });
  }
}
