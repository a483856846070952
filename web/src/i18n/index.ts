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

/**
 * The server speaks English (AJV and TypeBox validation messages, a few service messages); the user reads their own
 * language. Unknown messages pass through.
 */
export function messageText(m: string): string {
  let r: RegExpMatchArray | null;
  if (/wrong username or password/i.test(m)) return t('v_badLogin');
  if (/must have required property|^Expected required property/.test(m)) return t('v_required');
  if ((r = m.match(/must NOT have fewer than (\d+)|Expected string length greater or equal to (\d+)/))) {
    const n = Number(r[1] ?? r[2]);
    return n <= 1 ? t('v_required') : t('v_min', { n });
  }
  if ((r = m.match(/must NOT have more than (\d+)|Expected string length less or equal to (\d+)/))) return t('v_max', { n: r[1] ?? r[2] });
  if ((r = m.match(/must be >= (-?[\d.]+)|Expected (?:number|integer) to be greater or equal to (-?[\d.]+)/))) return t('v_gte', { n: r[1] ?? r[2] });
  if ((r = m.match(/must be <= (-?[\d.]+)|Expected (?:number|integer) to be less or equal to (-?[\d.]+)/))) return t('v_lte', { n: r[1] ?? r[2] });
  if (/must match pattern|must match format|Expected string to match/.test(m)) return t('v_pattern');
  if (/must be (number|integer)|^Expected (number|integer)$/.test(m)) return t('v_number');
  if ((r = m.match(/^area (\S+) does not exist/))) return t('v_noArea', { id: r[1] });
  if ((r = m.match(/^serial (\S+) is already registered/))) return t('v_serialTaken', { serial: r[1] });
  if ((r = m.match(/^cluster id (\S+) is taken/))) return t('v_idTaken', { id: r[1] });
  if ((r = m.match(/^username (\S+) is taken/))) return t('v_usernameTaken', { name: r[1] });
  if ((r = m.match(/would fall in quiet hours (\S+)/))) return t('v_quiet', { hours: r[1] });
  if ((r = m.match(/^the (\d+) airings cannot all fit outside quiet hours (\S+)/))) return t('area.v_quietNoFit', { n: r[1], hours: r[2] });
  // an area's rules (server/src/areas/area-policy.ts)
  if ((r = m.match(/^session "(.*)" must end after it starts \((\d\d:\d\d)-(\d\d:\d\d)\)/))) return t('area.v_sessOrder', { name: r[1], from: r[2], to: r[3] });
  if ((r = m.match(/^session "(.*)" allows (\d+) minutes but lasts (\d+)/))) return t('area.v_sessLonger', { name: r[1], max: r[2], length: r[3] });
  if ((r = m.match(/^session "(.*)" overlaps session "(.*)"$/))) return t('area.v_sessOverlap', { name: r[1], other: r[2] });
  if (/^quiet hours start and end at the same time/.test(m)) return t('area.v_quietSame');
  if ((r = m.match(/^time zone (\S+) is not an IANA zone/))) return t('area.v_tz', { zone: r[1] });
  if ((r = m.match(/^"(.+)" already has a reading in this commune/))) return t('v_readingTaken', { written: r[1] });
  if (/^the written form needs at least one letter or digit/.test(m)) return t('v_writtenLetter');
  if (/^the reading needs at least one letter/.test(m)) return t('v_spokenLetter');
  if (/in the past|has passed/.test(m)) return t('v_past');
  if ((r = m.match(/^the audio is (\S+) long; the limit is (\S+)/))) return t('v_audioTooLong', { length: r[1], limit: r[2] });
  if (/^the audio cannot be brought to/.test(m)) return t('v_audioLoudness');
  if (/^the file is damaged or truncated|^the file is truncated/.test(m)) return t('v_audioDamaged');
  if (/^the file has no audible sound/.test(m)) return t('v_audioSilent');
  if (/^not an audio file ffmpeg can read|^the file has no audio stream/.test(m)) return t('v_notAudio');
  if (/^no cluster is targeted/.test(m)) return t('v_noTarget');
  if ((r = m.match(/^cluster (\S+) does not exist/))) return t('v_noCluster', { id: r[1] });
  if ((r = m.match(/^cluster (\S+) has no output (\d+)/))) return t('v_noOutput', { id: r[1], n: Number(r[2]) + 1 });
  if (/^expiresAt must be after startAt/.test(m)) return t('v_expiresBeforeStart');
  if (/would expire before it starts/.test(m)) return t('v_expireBeforeStart');
  if (/not pending approval/.test(m)) return t('v_notPending');
  if (/^broadcast is \w+ and cannot be cancelled/.test(m)) return t('v_cannotCancel');
  if (/^content \S+ is \w+, not ready|^item \d+: content \S+ is not ready/.test(m)) return t('v_contentNotReady');
  if (/output indexes must be unique/.test(m)) return t('v_outputsUnique');
  if (/needs at least one area/.test(m)) return t('v_needArea');
  // going live (server/src/live, broadcasts.service createLive)
  if (/^going live here needs approval rights/.test(m)) return t('mic.v_needApproval');
  if (/^only the officer who went live/.test(m)) return t('mic.v_onlyOwner');
  if (/^only operators, approvers and admins (go live|create broadcasts)/.test(m)) return t('mic.v_noRole');
  if (/^the session has ended/.test(m)) return t('mic.v_ended');
  if (/^the microphone must be sent from this console/.test(m)) return t('mic.v_fromConsole');
  if (/last admin with access to all areas/.test(m)) return t('v_lastAdmin');
  return m;
}

/** A failed request, in the user's language. */
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return String((e as Error)?.message ?? e);
  if (e.network) return t('networkError');
  const m = messageText(e.message);
  // A refusal the server explains (going live where approval is needed) is shown in its words, not as a bare "no".
  if (e.status === 403) return m !== e.message ? m : t('forbidden');
  if (m !== e.message) return m;
  if (e.status === 409 && locale === 'vi') return t('v_conflict') + ' (' + m + ')';
  return m;
}
