import { t, type Key } from '../i18n/index.ts';
import { fmtDate, wall } from '../i18n/time.ts';
import { Input } from './ui.tsx';
import { dict, parseDays, type ExceptionDraft, type ProgrammeDraft, type RecKind } from './programme-form.ts';
import { weekdayName } from './recurrence-words.ts';

type Props = { f: ProgrammeDraft; set: (p: Partial<ProgrammeDraft>) => void; errors: Record<string, string>; words: string };

const KINDS: [RecKind, Key][] = [
  ['once', 'prog.recOnce'],
  ['daily', 'prog.recDaily'],
  ['weekly', 'prog.recWeekly'],
  ['monthly', 'prog.recMonthly'],
  ['lunar', 'prog.recLunar'],
  ['rrule', 'prog.recRrule'],
];
const WEEK_QUICK: [Key, number[]][] = [
  ['prog.wkWorkdays', [1, 2, 3, 4, 5]],
  ['prog.wkWeekend', [6, 7]],
  ['prog.wkAll', [1, 2, 3, 4, 5, 6, 7]],
];
const LUNAR_QUICK: [Key, string][] = [
  ['prog.lunarQuick1_15', '1, 15'],
  ['prog.lunarQuick1', '1'],
  ['prog.lunarQuick15', '15'],
];
const same = (a: number[], b: number[]) => a.length === b.length && [...a].sort((x, y) => x - y).every((v, i) => v === [...b].sort((x, y) => x - y)[i]);
const toggle = (list: number[], n: number) => (list.includes(n) ? list.filter((x) => x !== n) : [...list, n]);
const DATE_PATTERN = '\\d{1,2}[\\/.\\-]\\d{1,2}[\\/.\\-]\\d{4}|\\d{8}';

/** A row of toggle buttons (aria-pressed): weekdays, lunar months. */
function Toggles({ label, items, on, onToggle }: { label: string; items: [number, string, string][]; on: number[]; onToggle: (n: number) => void }) {
  return (
    <div class="toggles" role="group" aria-label={label}>
      {items.map(([n, text, full]) => (
        <button type="button" aria-pressed={on.includes(n)} aria-label={full} onClick={() => onToggle(n)}>
          {text}
        </button>
      ))}
    </div>
  );
}

function Exceptions({ f, set, errors }: Omit<Props, 'words'>) {
  const put = (i: number, p: Partial<ExceptionDraft>) => set({ exceptions: f.exceptions.map((x, j) => (j === i ? { ...x, ...p } : x)) });
  return (
    <details open={f.exceptions.length > 0}>
      <summary>{t('prog.exceptions', { n: f.exceptions.length })}</summary>
      {f.exceptions.map((x, i) => (
        <div class="exception" data-testid="exception">
          <Input label={t('prog.excDate')} inputMode="decimal" autocomplete="off" pattern={DATE_PATTERN} placeholder={fmtDate(wall(Date.now()))} value={x.date} onValue={(v) => put(i, { date: v })} error={errors['exc' + i]} />
          <label class="inline">
            <input type="radio" name={'exc-move-' + i} checked={!x.move} onChange={() => put(i, { move: false })} /> {t('prog.excSkip')}
          </label>
          <label class="inline">
            <input type="radio" name={'exc-move-' + i} checked={x.move} onChange={() => put(i, { move: true })} /> {t('prog.excMove')}
          </label>
          {x.move && (
            <div class="grid3">
              <Input label={t('prog.excMoveDate')} inputMode="decimal" autocomplete="off" pattern={DATE_PATTERN} value={x.moveDate} onValue={(v) => put(i, { moveDate: v })} />
              <Input label={t('prog.excMoveTime')} inputMode="decimal" autocomplete="off" placeholder="17:30" value={x.moveTime} onValue={(v) => put(i, { moveTime: v })} />
            </div>
          )}
          <button type="button" class="danger" onClick={() => set({ exceptions: f.exceptions.filter((_, j) => j !== i) })}>
            {t('prog.excRemove')}
          </button>
        </div>
      ))}
      <button type="button" onClick={() => set({ exceptions: [...f.exceptions, { date: '', move: false, moveDate: '', moveTime: '' }] })}>
        + {t('prog.excAdd')}
      </button>
    </details>
  );
}

/** When it airs, in the officer's own terms: a time of day, how it repeats (solar or lunar), from and until, exceptions. */
export function SchedulePicker({ f, set, errors, words }: Props) {
  const d = dict();
  const lunarDays = parseDays(f.lunarDays, 30) ?? [];
  return (
    <fieldset>
      <legend>{t('prog.when')}</legend>
      <Input label={t('startTime')} name="time" inputMode="decimal" autocomplete="off" pattern={'\\d{1,2}[:hH.]?\\d{2}'} placeholder="05:30" hint={t('startTimeHint')} value={f.time} onValue={(v) => set({ time: v })} error={errors.time} />
      <fieldset class="inner">
        <legend>{t('prog.repeat')}</legend>
        {KINDS.map(([k, key]) => (
          <label class="inline block">
            <input type="radio" name="rec" checked={f.rec === k} onChange={() => set({ rec: k })} /> {t(key)}
          </label>
        ))}
      </fieldset>
      {f.rec === 'once' && <Input label={t('startDate')} name="onceDate" inputMode="decimal" autocomplete="off" pattern={DATE_PATTERN} placeholder={fmtDate(wall(Date.now()))} hint={t('prog.dateHint')} value={f.onceDate} onValue={(v) => set({ onceDate: v })} error={errors.onceDate} />}
      {f.rec === 'weekly' && (
        <div class="sub">
          <div class="actions">
            {WEEK_QUICK.map(([key, days]) => (
              <button type="button" aria-pressed={same(f.weekdays, days)} onClick={() => set({ weekdays: days })}>
                {t(key)}
              </button>
            ))}
          </div>
          <Toggles label={t('prog.weekdays')} items={[1, 2, 3, 4, 5, 6, 7].map((n) => [n, t(`prog.wds${n}` as Key), weekdayName(d, n)])} on={f.weekdays} onToggle={(n) => set({ weekdays: toggle(f.weekdays, n) })} />
          {errors.weekdays && <p class="field-error" role="alert">{errors.weekdays}</p>}
        </div>
      )}
      {f.rec === 'monthly' && <Input label={t('prog.monthDays')} name="monthDays" inputMode="numeric" autocomplete="off" hint={t('prog.monthDaysHint')} value={f.monthDays} onValue={(v) => set({ monthDays: v })} error={errors.monthDays} />}
      {f.rec === 'lunar' && (
        <div class="sub">
          <div class="actions">
            {LUNAR_QUICK.map(([key, days]) => (
              <button type="button" aria-pressed={same(lunarDays, parseDays(days, 30)!)} onClick={() => set({ lunarDays: days })}>
                {t(key)}
              </button>
            ))}
          </div>
          <Input label={t('prog.lunarDays')} name="lunarDays" inputMode="numeric" autocomplete="off" hint={t('prog.lunarDaysHint')} value={f.lunarDays} onValue={(v) => set({ lunarDays: v })} error={errors.lunarDays} />
          <p class="hint">{t('prog.lunarMonthsHint')}</p>
          <Toggles label={t('prog.lunarMonths')} items={Array.from({ length: 12 }, (_, i) => [i + 1, t(`prog.lm${i + 1}` as Key), t('prog.lunarMonth', { name: t(`prog.lm${i + 1}` as Key) })])} on={f.lunarMonths} onToggle={(n) => set({ lunarMonths: toggle(f.lunarMonths, n) })} />
          <label class="inline">
            <input type="checkbox" checked={f.leapMonths} onChange={(e) => set({ leapMonths: e.currentTarget.checked })} /> {t('prog.leapMonths')}
          </label>
        </div>
      )}
      {f.rec === 'rrule' && <Input label={t('prog.rule')} name="rule" autocomplete="off" placeholder="FREQ=WEEKLY;BYDAY=MO,WE,FR" hint={t('prog.ruleHint')} value={f.rule} onValue={(v) => set({ rule: v })} error={errors.rule} />}
      <div class="grid3">
        <Input label={t('prog.from')} name="from" inputMode="decimal" autocomplete="off" pattern={DATE_PATTERN} hint={t('prog.fromHint')} value={f.from} onValue={(v) => set({ from: v })} error={errors.from} />
        <Input label={t('prog.until')} name="until" inputMode="decimal" autocomplete="off" pattern={DATE_PATTERN} hint={t('prog.untilHint')} value={f.until} onValue={(v) => set({ until: v })} error={errors.until} />
      </div>
      <Exceptions f={f} set={set} errors={errors} />
      <p class="prog-words" role="status" data-testid="prog-words">
        {words}
      </p>
    </fieldset>
  );
}
