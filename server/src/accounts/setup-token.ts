import { hashToken, newToken, sameHash } from './tokens.ts';

const VALID_MS = 24 * 3_600_000;

/**
 * The one-time first-run secret. It lives only in this process: it is never written to the database, so a copied
 * database file cannot be used to claim a fresh install, and a restart issues a new one. Checks compare SHA-256
 * digests in constant time. The plain value is kept (privately) only so that `peek` can hand it to code running in
 * the same process — tests, or a future CLI — without scraping the log.
 */
export class SetupToken {
  #current: { token: string; hash: string; expiresAt: number } | null = null;

  issue(now: number): string {
    const token = newToken();
    this.#current = { token, hash: hashToken(token), expiresAt: now + VALID_MS };
    return token;
  }

  matches(token: string, now: number): boolean {
    const c = this.#current;
    return !!c && c.expiresAt > now && sameHash(hashToken(token), c.hash);
  }

  peek(now: number): string | null {
    const c = this.#current;
    return c && c.expiresAt > now ? c.token : null;
  }

  clear(): void {
    this.#current = null;
  }
}
