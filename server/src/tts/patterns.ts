/** Regex pieces shared by the reading passes. */

/** Boundaries that understand Vietnamese letters (\b is ASCII-only: it sees a boundary inside "mẫu"). */
export const B = '(?<![\\p{L}\\p{N}])';
export const A = '(?![\\p{L}\\p{N}])';
/** A written number: digits with "." thousand groups and/or a "," decimal part (separators only between digits). */
export const NUM = '\\d+(?:[.,]\\d+)*';

export const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'); // no "-"/"&": invalid escapes under /u
/** Longest first, so "UBMTTQ" wins over "MTTQ". */
export const alternation = (keys: string[]) => [...keys].sort((a, b) => b.length - a.length).map(escape).join('|');

/**
 * Words as they open a sentence or run inside one: each word's first letter in either case ("học kỳ", "Học kỳ",
 * "Đại hội", "đại hội"), any run of spaces between words. Longest first.
 */
export const wordsPattern = (list: string[]) =>
  [...list]
    .sort((a, b) => b.length - a.length)
    .map((k) => k.split(' ').map((w) => `[${w[0].toLowerCase()}${w[0].toUpperCase()}]${escape(w.slice(1))}`).join('\\s+'))
    .join('|');
