import { t, type Key } from './index.ts';
import { vi } from './vi.ts';

/**
 * The server and devices speak stable codes (health faults, output states, airing states and reasons); the console
 * shows words. An unknown code (a newer device) is shown as it is rather than hidden.
 */
const known = (k: string): k is Key => k in vi;

type Output = { index: number; label: string };

/** 'output-1-open' → 'Loa hướng Nam: hở mạch (đứt dây loa)'; 'mains-lost' → 'Mất điện lưới'. */
export function faultText(code: string, outputs: Output[] = []): string {
  const o = code.match(/^output-(\d+)-(\w+)$/);
  if (o) {
    const index = Number(o[1]);
    const label = outputs.find((x) => x.index === index)?.label ?? t('outputN', { n: index + 1 });
    return t('f_output', { output: label, state: outputStateText(o[2]) });
  }
  const k = 'f_' + code.replace(/-/g, '_');
  return known(k) ? t(k) : code;
}

export const faultsText = (codes: string[], outputs: Output[] = []) => codes.map((c) => faultText(c, outputs)).join(', ');

export function outputStateText(s: string): string {
  const k = 'o_' + s;
  return known(k) ? t(k) : s;
}

export function airingStateText(s: string): string {
  const k = 'a_' + s;
  return known(k) ? t(k) : s;
}

/** Why an airing failed, was skipped or cancelled; '' when the server only repeated the state (no reason given). */
export function reasonText(r: string | null | undefined): string {
  if (!r) return '';
  const k = 'r_' + r;
  if (known(k)) return t(k);
  return known('a_' + r) ? '' : r;
}
