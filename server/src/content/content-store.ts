import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Audio addressed by the sha256 of its bytes: LOA_DATA_DIR/content/<sha256>. Identical content is stored once. */
export class ContentStore {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = resolve(dataDir, 'content');
    mkdirSync(this.dir, { recursive: true });
  }
  has(sha256: string): boolean {
    return /^[a-f0-9]{64}$/.test(sha256) && existsSync(join(this.dir, sha256));
  }
  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }
}
