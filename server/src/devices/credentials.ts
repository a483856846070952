import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device secrets are 192 random bits, so a single SHA-256 is as strong as any password hash against guessing and
 * costs microseconds: 10,000 clusters reconnecting after a commune-wide power cut are not held up by hashing.
 */
export function newDeviceSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function hashDeviceSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function verifyDeviceSecret(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashDeviceSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
