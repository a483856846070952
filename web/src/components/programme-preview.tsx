import type { Preview, Problem } from '../api/client.ts';
import { t, messageText } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { fmtDate, fmtTime, wall } from '../i18n/time.ts';
import { placesText } from './broadcast-parts.tsx';
import { dict, type ProgrammeDraft } from './programme-form.ts';
import { dmy, durationWords, occurrenceWords, weekdayShort } from './recurrence-words.ts';

type Choices = Pick<ProgrammeDraft, 'onClash' | 'onQuiet'>;
type SetDraft = (p: Partial<ProgrammeDraft>) => void;

/** "T2 07/12/2026 04:30" in the area's wall clock. */
function when(iso: string, zone: string): string {
  const w = wall(Date.parse(iso), zone);
  const wd = new Date(Date.UTC(w.y, w.M - 1, w.d)).getUTCDay() || 7;
  return `${weekdayShort(dict(), wd)} ${fmtDate(w)} ${fmtTime(w)}`;
}
const hm = (iso: string, zone: string) => fmtTime(wall(Date.parse(iso), zone));

/** A choice that resolves a problem: pressed when taken, pressed again (or "Hủy") to give it up. */
function Choice({ on, label, onClick, testId }: { on: boolean; label: string; onClick: () => void; testId: string }) {
  return (
    <button type="button" aria-pressed={on} onClick={onClick} data-testid={testId}>
      {label}
    </button>
  );
}

function ProblemItem({ p, c, set, zone, quietHours }: { p: Problem; c: Choices; set: SetDraft; zone: string; quietHours: string }) {
  if (p.kind === 'quiet_hours')
    return (
      <li data-kind="quiet_hours">
        <p>
          {t('prog.pQuiet', { when: p.at ? when(p.at, zone) : '—', hours: quietHours || '—' })}
          {p.nextAllowed && ' ' + t('prog.pQuietNext', { when: when(p.nextAllowed, zone) })}
        </p>
        <div class="actions">
          <Choice on={c.onQuiet === 'move'} label={t('prog.quietMove')} testId="choice-quiet-move" onClick={() => set({ onQuiet: c.onQuiet === 'move' ? '' : 'move' })} />
        </div>
      </li>
    );
  if (p.kind === 'session_cap' && p.cap)
    return (
      <li data-kind="session_cap">
        <p>{t('prog.pCap', { session: p.cap.session, from: p.cap.from, to: p.cap.to, date: dmy(p.cap.date), used: fmtNum(p.cap.usedMin), add: fmtNum(p.cap.thisMin), limit: fmtNum(p.cap.limitMin) })}</p>
      </li>
    );
  if (p.kind === 'conflict' && p.clash) {
    const x = p.clash;
    return (
      <li data-kind="conflict">
        <p>{t('prog.pClash', { name: x.name, day: when(x.from, zone), to: hm(x.to, zone), n: fmtNum(x.clusterCount), clusters: placesText(x.clusters, x.clusterCount) })}</p>
        <div class="actions">
          <Choice on={c.onClash === 'shift'} label={t('prog.clashShift')} testId="choice-clash-shift" onClick={() => set({ onClash: 'shift' })} />
          <Choice on={c.onClash === 'first'} label={t('prog.clashFirst')} testId="choice-clash-first" onClick={() => set({ onClash: 'first' })} />
          <button type="button" onClick={() => set({ onClash: '' })} data-testid="choice-clash-cancel">
            {t('cancel')}
          </button>
        </div>
      </li>
    );
  }
  return (
    <li data-kind={p.kind}>
      <p>{messageText(p.message)}</p>
    </li>
  );
}

/** What stops a save, each with the way out the operator may choose (moved out of quiet hours, before or after a clash). */
export function Problems({ problems, c, set, zone, quietHours, testId }: { problems: Problem[]; c: Choices; set: SetDraft; zone: string; quietHours: string; testId: string }) {
  const chosen = [c.onQuiet === 'move' && t('prog.chosenQuiet'), c.onClash === 'shift' && t('prog.chosenShift'), c.onClash === 'first' && t('prog.chosenFirst')].filter(Boolean);
  if (!problems.length && !chosen.length) return null;
  return (
    <div class="prog-problems" data-testid={testId}>
      {problems.length > 0 && (
        <>
          <h3>{t('prog.problems', { n: problems.length })}</h3>
          <ul class="plain">
            {problems.map((p) => (
              <ProblemItem p={p} c={c} set={set} zone={zone} quietHours={quietHours} />
            ))}
          </ul>
        </>
      )}
      {chosen.map((s) => (
        <p class="banner ok small">{s}</p>
      ))}
    </div>
  );
}

/**
 * The preview, recomputed as the operator edits (POST /programmes/preview): how long, how many clusters, the next ten
 * airings with their lunar date, and anything that would stop the save — before pressing "Lưu".
 */
export function PreviewBox({ state, c, set, zone, quietHours }: { state: { busy: boolean; data?: Preview; error?: string; waiting?: string }; c: Choices; set: SetDraft; zone: string; quietHours: string }) {
  const p = state.data;
  const d = dict();
  return (
    <section class="card prog-preview" aria-labelledby="prog-preview-h" data-testid="prog-preview" aria-busy={state.busy}>
      <h2 id="prog-preview-h">{t('prog.preview')}</h2>
      {state.waiting && <p class="muted small">{state.waiting}</p>}
      {state.error && <p class="field-error">{state.error}</p>}
      {p && (
        <>
          <p data-testid="prog-summary">{t('prog.summary', { d: durationWords(p.durationMs, d), n: fmtNum(p.clusters) })}</p>
          <h3>{t('prog.nextTen', { n: p.next.length })}</h3>
          {p.next.length ? (
            <ol class="prog-next" data-testid="prog-next">
              {p.next.map((o) => (
                <li data-date={o.date}>
                  {occurrenceWords(o, d)}
                  {o.moved && <span class="badge">{t('prog.moved')}</span>}
                </li>
              ))}
            </ol>
          ) : (
            <p class="muted">{t('prog.noNext')}</p>
          )}
          <Problems problems={p.problems} c={c} set={set} zone={zone} quietHours={quietHours} testId="prog-problems" />
        </>
      )}
      {state.busy && <p class="muted small">{t('prog.previewing')}</p>}
    </section>
  );
}
