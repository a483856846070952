import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.ts';
import { errorText, t, type Key } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';

let uid = 0;
/** A labelled input with its server error underneath (aria-describedby), so screen readers hear both. */
export function Field(props: { label: string; error?: string | null; hint?: string; children: (id: string, describedBy?: string) => ComponentChildren }) {
  const [id] = useState(() => 'f' + ++uid);
  const described = [props.hint ? id + '-hint' : '', props.error ? id + '-err' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id, described)}
      {props.hint && (
        <p class="hint" id={id + '-hint'}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={id + '-err'} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

type InputProps = Omit<JSX.HTMLAttributes<HTMLInputElement>, 'onInput' | 'value'> & { label: string; error?: string | null; hint?: string; value: string | number; onValue: (v: string) => void; type?: string; required?: boolean; min?: number; max?: number; autocomplete?: string; placeholder?: string; name?: string; pattern?: string };
export function Input({ label, error, hint, value, onValue, ...rest }: InputProps) {
  return (
    <Field label={label} error={error} hint={hint}>
      {(id, d) => <input id={id} aria-describedby={d} aria-invalid={!!error} value={value} onInput={(e) => onValue(e.currentTarget.value)} {...rest} />}
    </Field>
  );
}

export function Select(props: { label: string; value: string; onValue: (v: string) => void; options: [string, string][]; error?: string | null; hint?: string; name?: string }) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(id, d) => (
        <select id={id} name={props.name} aria-describedby={d} value={props.value} onChange={(e) => props.onValue(e.currentTarget.value)}>
          {props.options.map(([v, l]) => (
            <option value={v}>{l}</option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * Form error state: maps an ApiError's `field` ('body/title', 'body/source/tts/text') to the form's field names, and
 * keeps a general message for anything without a field.
 */
export function useFormErrors() {
  const [errors, setErrors] = useState<Record<string, string>>({});
  return {
    errors,
    clear: () => setErrors({}),
    /** Errors found before sending (field name → message). */
    set: (e: Record<string, string>) => setErrors(e),
    /** Forgets one field's error once the user changes that field. */
    drop: (key: string) => setErrors((p) => (key in p ? Object.fromEntries(Object.entries(p).filter(([k]) => k !== key)) : p)),
    /** `map` turns the server path into a field name; returns true if it was placed next to a field. */
    take(e: unknown, map: (path: string) => string | null = (p) => p.replace(/^body\//, '').split('/')[0]) {
      const msg = errorText(e);
      const key = e instanceof ApiError && e.field ? map(e.field) : null;
      setErrors(key ? { [key]: msg } : { _: msg });
    },
  };
}

export function FormError({ msg }: { msg?: string }) {
  return msg ? (
    <p class="banner error" role="alert">
      {msg}
    </p>
  ) : null;
}

export function Stat({ label, value, tone }: { label: string; value: ComponentChildren; tone?: 'ok' | 'warn' | 'bad' }) {
  return (
    <div class={'stat ' + (tone ?? '')}>
      <div class="stat-value">{value}</div>
      <div class="stat-label">{label}</div>
    </div>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={'badge st-' + state}>{t(('st_' + state) as Key)}</span>;
}

export function Progress({ value, label }: { value: number; label: string }) {
  return (
    <div class="progress" role="progressbar" aria-label={label} aria-valuenow={value} aria-valuemin={0} aria-valuemax={100}>
      <div style={{ width: value + '%' }} />
      <span>
        {label} {fmtNum(value)} %
      </span>
    </div>
  );
}

export function Loading({ error }: { error?: string | null }) {
  return error ? <p class="banner error">{error}</p> : <p class="muted">{t('loading')}</p>;
}
