import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Short random ids that are valid MQTT topic levels and URL segments, e.g. `cl-7k2m9xq4ta`. */
export function newId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${s}`;
}
