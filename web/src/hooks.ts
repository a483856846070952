import { useEffect, useState, useCallback } from 'preact/hooks';
import { on } from './api/live.ts';
import { errorText } from './i18n/index.ts';

/**
 * State that survives errors, reloads and dropped connections: kept in localStorage under `loa.draft.<key>` until
 * the caller clears it after a successful submit. "Nothing a user typed is lost."
 */
export function useDraft<T>(key: string, initial: T): [T, (v: T | ((p: T) => T)) => void, () => void] {
  const k = 'loa.draft.' + key;
  const [v, setV] = useState<T>(() => {
    try {
      const s = localStorage.getItem(k);
      return s ? { ...initial, ...JSON.parse(s) } : initial;
    } catch {
      return initial;
    }
  });
  const set = useCallback((n: T | ((p: T) => T)) => {
    setV((p) => {
      const next = typeof n === 'function' ? (n as (p: T) => T)(p) : n;
      try {
        localStorage.setItem(k, JSON.stringify(next));
      } catch {
        /* storage full: keep in memory */
      }
      return next;
    });
  }, [k]);
  const clear = useCallback(() => {
    localStorage.removeItem(k);
    setV(initial);
  }, [k]);
  return [v, set, clear];
}

/** Loads data, reloads on the given live events (debounced) and on reconnect. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], liveEvents: string[] = []): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let alive = true;
    fn().then((d) => alive && (setData(d), setError(null)), (e) => alive && setError(errorText(e)));
    return () => {
      alive = false;
    };
  }, [...deps, n]);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bump = () => {
      clearTimeout(timer);
      timer = setTimeout(() => setN((x) => x + 1), 300);
    };
    const offs = [...liveEvents, 'reconnect'].map((e) => on(e, bump));
    return () => (clearTimeout(timer), offs.forEach((o) => o()));
  }, [liveEvents.join()]);
  return { data, error, reload: () => setN((x) => x + 1) };
}
