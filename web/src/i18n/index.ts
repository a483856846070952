import { vi, type Dict } from './vi.ts';
import { en } from './en.ts';
import { ApiError } from '../api/client.ts';

export type Locale = 'vi' | 'en';
export type Key = keyof Dict;
let locale: Locale = (localStorage.getItem('loa.locale') as Locale) || 'vi';
const listeners = new Set<() => void>();

export const getLocale = () => locale;
export function setLocale(l: Locale): void {
  locale = l;
  localStorage.setItem('loa.locale', l);
  document.documentElement.lang = l;
  listeners.forEach((f) => f());
}
export const onLocale = (f: () => void) => (listeners.add(f), () => listeners.delete(f));

export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = (locale === 'en' ? en : vi)[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

export { fmtDateTime } from './time.ts';

/** The server speaks English (AJV messages); the user reads their own language. Unknown messages pass through. */
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return String((e as Error)?.message ?? e);
  if (e.network) return t('networkError');
  if (e.status === 403) return t('forbidden');
  const m = e.message;
  let r: RegExpMatchArray | null;
  if (/wrong username or password/i.test(m)) return t('v_badLogin');
  if (/must have required property/.test(m)) return t('v_required');
  if ((r = m.match(/must NOT have fewer than (\d+)/))) return Number(r[1]) <= 1 ? t('v_required') : t('v_min', { n: r[1] });
  if ((r = m.match(/must NOT have more than (\d+)/))) return t('v_max', { n: r[1] });
  if ((r = m.match(/must be >= (-?[\d.]+)/))) return t('v_gte', { n: r[1] });
  if ((r = m.match(/must be <= (-?[\d.]+)/))) return t('v_lte', { n: r[1] });
  if (/must match pattern/.test(m)) return t('v_pattern');
  if (/must match format/.test(m)) return t('v_format');
  if (e.status === 409 && locale === 'vi') return t('v_conflict') + ' (' + m + ')';
  return m;
}
