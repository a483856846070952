import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt at N=2^16, r=8, p=1: 64 MiB and roughly 0.1–0.3 s per hash on a small commune server. That is a little
 * under OWASP's current advice (2^17, or 2^16 with p=2) and trades it for memory headroom on 1–2 GB machines; login
 * is rate-limited besides. The parameters travel with each hash, so raising them later only means rehashing on the
 * next successful login (see needsRehash).
 */
const COST = { N: 2 ** 16, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Refuse stored parameters beyond this, so a tampered row cannot make one login eat a gigabyte. */
const MAX_N = 2 ** 20;

function derive(password: string, salt: Buffer, cost: typeof COST): Promise<Buffer> {
  // Node's default maxmem is 32 MiB, below the 128·N·r bytes scrypt needs here.
  const opts: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  // Vietnamese text typed on different keyboards may arrive precomposed or decomposed; hash one form.
  const pw = password.normalize('NFC');
  // The callback form runs on the libuv pool, so hashing never blocks the event loop.
  return new Promise((resolve, reject) => scrypt(pw, salt, KEY_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function parse(stored: string) {
  const [alg, n, r, p, salt, key] = stored.split('$');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const sane = alg === 'scrypt' && Number.isInteger(cost.N) && cost.N > 1 && cost.N <= MAX_N && (cost.N & (cost.N - 1)) === 0
    && cost.r >= 1 && cost.r <= 32 && cost.p >= 1 && cost.p <= 16 && !!salt && !!key;
  return sane ? { cost, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') } : null;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h) return false;
  const key = await derive(password, h.salt, h.cost);
  return key.length === h.key.length && timingSafeEqual(key, h.key);
}

export function needsRehash(stored: string): boolean {
  const h = parse(stored);
  return !h || h.cost.N !== COST.N || h.cost.r !== COST.r || h.cost.p !== COST.p;
}

let dummy: Promise<string> | undefined;
/**
 * Checked against when the username is unknown or disabled, so a failed login takes as long either way and the
 * timing does not tell an attacker which usernames exist.
 */
export function dummyHash(): Promise<string> {
  return (dummy ??= hashPassword(randomBytes(16).toString('hex')));
}
