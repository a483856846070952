import { readInteger, type Dialect } from './numbers.ts';
import { A, wordsPattern } from './patterns.ts';

/**
 * Roman numerals where Vietnamese writes them: học kỳ I, quý IV/2026, khóa XII, thế kỷ XXI, Đại hội XIII, lần thứ IX,
 * trường cấp II, Quân khu IX. Only after one of these words, and only I/V/X up to 39: a bare "I" in mixed text
 * stays a word, and Latin letters that are also Roman digits (hạng C, vitamin D, khu L) stay letters.
 */
const KEYWORDS = [
  'học kỳ', 'học kì', 'kỳ', 'kì', 'quý', 'khóa', 'khoá', 'nhiệm kỳ', 'thế kỷ', 'thế kỉ', 'đại hội', 'thứ', 'chương', 'phần', 'mục',
  'vùng', 'cấp', 'cấp độ', 'hạng', 'loại', 'đợt', 'giai đoạn', 'nhóm', 'tập', 'bậc', 'quân khu', 'khu vực',
];
/** Periods of a year, where "/2026" after the numeral is the year: quý IV/2026, học kỳ II/2025. */
const PERIODS = new Set(['quý', 'kỳ', 'kì', 'học kỳ', 'học kì']);
const ROMAN = '(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})';
const R = `(?:${ROMAN})${A}`;
// A list: "quý II và III", "học kỳ I - II", "quý I, II và III" (commas only inside a list closed by và/đến, so the
// English "I" after "khóa XV, I …" stays a word).
const LIST = `${R}(?:(?:\\s*,\\s*${R})*\\s*(?:và|hoặc|đến|-|–)\\s*${R})?`;
const RE = new RegExp(`(${wordsPattern(KEYWORDS)})\\s+(${LIST}|\\d{1,2}${A})(?:/(\\d{4}))?${A}`, 'gu');

const VALUES: Record<string, number> = { I: 1, V: 5, X: 10 };
export function romanValue(r: string): number {
  let n = 0;
  for (let i = 0; i < r.length; i++) {
    const v = VALUES[r[i]];
    n += v < (VALUES[r[i + 1]] ?? 0) ? -v : v;
  }
  return n;
}

/** After "thứ" a numeral is an ordinal: thứ I → thứ nhất, thứ IV → thứ tư. */
const ordinal = (n: number, d: Dialect) => (n === 1 ? 'nhất' : n === 4 ? 'tư' : readInteger(String(n), d));

export function romanNumerals(s: string, d: Dialect): string {
  return s.replace(RE, (all, word: string, numerals: string, year: string | undefined) => {
    const key = word.toLowerCase().replace(/\s+/g, ' ');
    const arabic = /^\d/.test(numerals);
    // Arabic numerals read fine already, except a period of a year, which the date rules would take for a month.
    if (arabic && !(year && PERIODS.has(key) && +numerals >= 1 && +numerals <= 4)) return all;
    const say = (n: number) => (key === 'thứ' ? ordinal(n, d) : readInteger(String(n), d));
    const spoken = arabic
      ? say(+numerals)
      : numerals.replace(new RegExp(ROMAN, 'g'), (r) => (r ? say(romanValue(r)) : r)).replace(/\s*[-–]\s*/g, ' đến ');
    return `${word} ${spoken}${year ? ` năm ${readInteger(year, d)}` : ''}`;
  });
}
