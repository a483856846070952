import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL- and cookie-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Session and setup tokens are full-entropy random values, so one SHA-256 is enough: the stored digest is useless
 * to whoever reads the database, and lookups stay a primary-key hit per request.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
