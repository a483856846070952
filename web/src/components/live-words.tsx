import type { StreamSwitch } from '../api/client.ts';
import { t, type Key } from '../i18n/index.ts';
import { vi } from '../i18n/vi.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { fmtTimeDay } from '../i18n/time.ts';

/**
 * What a live stream carries, in words: the server names its inputs 'primary', 'backup' (with its 1-based number),
 * 'filler', 'silence', 'microphone', and a switch's ends as 'primary', 'backup 1', 'filler', 'silence'. An unknown
 * one (a newer server) is shown as it is.
 */
export function inputText(input: string | null | undefined, backup?: number | null): string {
  if (!input) return t('bl.notRunning');
  const m = input.match(/^backup\s*(\d+)?$/);
  if (m) return t('in.backup', { n: fmtNum(Number(m[1] ?? backup ?? 1)) });
  const k = ('in.' + input) as Key;
  return k in vi ? t(k) : input;
}

/** Why the stream switched: stalled, http_error, decode_error, ended, recovered, started. */
export function switchReasonText(reason: string): string {
  const k = ('sw.' + reason) as Key;
  return k in vi ? t(k) : reason;
}

/** The latest switches first, each with its time and reason; `max` of them. */
export function SwitchList({ switches, max = 5 }: { switches: StreamSwitch[]; max?: number }) {
  if (!switches.length) return <p class="muted small">{t('src.noSwitches')}</p>;
  return (
    <ul class="switches" data-testid="switches">
      {[...switches]
        .reverse()
        .slice(0, max)
        .map((s) => (
          <li>
            <time dateTime={s.at}>{fmtTimeDay(s.at, true)}</time> <strong>{t('src.switchLine', { from: inputText(s.from), to: inputText(s.to) })}</strong>
            <span class="muted"> — {switchReasonText(s.reason)}</span>
          </li>
        ))}
    </ul>
  );
}
