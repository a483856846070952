import { B, A, escape } from './patterns.ts';

/** One of a commune's own readings: text as written in a bulletin, and the words to say for it. */
export interface Reading {
  written: string;
  spoken: string;
}

/**
 * Replaces each written form by its spoken words, longest first (so "Phú Mỹ A" wins over "Phú Mỹ"), as whole words
 * and as written (case matters: "CA" and "ca" differ). Runs before the built-in rules, which then read whatever
 * the spoken form still holds (digits, abbreviations).
 */
export function applyReadings(s: string, readings: readonly Reading[]): string {
  if (!readings.length) return s;
  const spoken = new Map(readings.map((r) => [r.written.normalize('NFC'), r.spoken.normalize('NFC')]));
  // Edges are only required where the written form has a letter or digit at that edge ("3A", "Đắk Sắk", "&Co").
  const pattern = [...spoken.keys()]
    .sort((a, b) => b.length - a.length)
    .map((w) => `${/^[\p{L}\p{N}]/u.test(w) ? B : ''}${escape(w)}${/[\p{L}\p{N}]$/u.test(w) ? A : ''}`)
    .join('|');
  return s.replace(new RegExp(pattern, 'gu'), (m) => spoken.get(m) ?? m);
}
