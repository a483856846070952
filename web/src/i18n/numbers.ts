import { getLocale } from './index.ts';

/**
 * The one number formatter of the console: Vietnamese writes a decimal comma and groups thousands with a dot
 * ("13,2 V", "1.250 cụm"), English the other way round. Tables, charts, stats and messages all go through it, so a
 * reading never shows "13.2" in one place and "13,18" in another.
 */
const cache = new Map<string, Intl.NumberFormat>();
function nf(digits: number): Intl.NumberFormat {
  const key = getLocale() + digits;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.NumberFormat(getLocale() === 'vi' ? 'vi-VN' : 'en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f;
}

/** A number with a fixed count of decimals, in the user's language: fmtNum(13.18, 1) → "13,2". */
export const fmtNum = (v: number, digits = 0): string => nf(digits).format(v);
/** With its unit after a space, as both languages write it: "13,2 V", "97,4 %", "−95 dBm". */
export const fmtUnit = (v: number, unit: string, digits = 0): string => `${fmtNum(v, digits)} ${unit}`;
/** Seconds from milliseconds, for people ("0,09 giây" rather than "89 ms"). */
export const fmtSeconds = (ms: number, digits = 2): string => fmtNum(ms / 1000, digits);

/**
 * Axis labels: as many decimals as the step between ticks needs ("12,5" on 0,5 V steps, "180" on 20 V steps) and no
 * more, so one axis never mixes "12" and "12,50".
 */
export function fmtTicks(values: number[]): string[] {
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : 1;
  const digits = step >= 1 || step === 0 ? 0 : Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  return values.map((v) => fmtNum(v, digits));
}
/** About-figures for people: one decimal under ten, none above ("4,7 giờ", "12 giờ"). */
export const fmtAbout = (v: number): string => fmtNum(v, Math.abs(v) < 10 ? 1 : 0);
