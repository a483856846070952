import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

const SHA = /^[a-f0-9]{64}$/;

/**
 * Audio addressed by the sha256 of its bytes: LOA_DATA_DIR/content/<sha256>. Identical content is stored once.
 * Devices fetch exactly these files, so nothing but complete, transcoded audio may ever appear under a hash name:
 * every write goes to `.tmp/` first and is renamed into place (rename is atomic within one file system, and
 * `.tmp/` sits inside `content/` so it is always the same file system). Originals as uploaded are kept under
 * `originals/<sha256 of the original>` to re-transcode later; neither subfolder matches the hash pattern, so the
 * device route can never serve them.
 */
export class ContentStore {
  readonly dir: string;
  readonly originalsDir: string;
  readonly tmpDir: string;
  constructor(dataDir: string) {
    this.dir = resolve(dataDir, 'content');
    this.originalsDir = join(this.dir, 'originals');
    this.tmpDir = join(this.dir, '.tmp');
    mkdirSync(this.originalsDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }
  has(sha256: string): boolean {
    return SHA.test(sha256) && existsSync(join(this.dir, sha256));
  }
  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }
  originalPath(sha256: string): string {
    if (!SHA.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.originalsDir, sha256);
  }
  /** A fresh path in the store's temp folder; the caller removes it (or moves it in with put*). */
  tempPath(suffix = ''): string {
    return join(this.tmpDir, `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}${suffix}`);
  }
  /** Removes temp files a crashed process left behind. Call only when no ingest is running (start-up). */
  clearTemp(): void {
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  /** Moves a finished temp file in under its hash; if that content is already stored the temp file is dropped. */
  async putContent(tempFile: string, sha256: string): Promise<void> {
    await this.moveIn(tempFile, this.pathOf(sha256));
  }
  /** Copies the caller's file in as an original (the caller keeps and removes its own file). */
  async putOriginal(file: string, sha256: string): Promise<void> {
    const dest = this.originalPath(sha256);
    if (existsSync(dest)) return;
    const tmp = this.tempPath();
    try {
      await copyFile(file, tmp);
      await this.moveIn(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  // Removals are synchronous: the caller's "is anything still using it?" check and the unlink then happen in one turn
  // of the event loop, so no ingest can claim the file in between.
  removeOriginal(sha256: string): void {
    rmSync(this.originalPath(sha256), { force: true });
  }
  /** Removes a stored file (a device may be downloading it: an open download finishes, the next one finds nothing). */
  removeContent(sha256: string): void {
    if (!SHA.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    rmSync(this.pathOf(sha256), { force: true });
  }
  async size(sha256: string): Promise<number> {
    return (await stat(this.pathOf(sha256))).size;
  }

  private async moveIn(tempFile: string, dest: string): Promise<void> {
    if (!SHA.test(dest.slice(-64))) throw new Error(`refusing to store under a non-hash name: ${dest}`);
    if (existsSync(dest)) {
      // Same hash, same bytes: keep the file devices may be downloading right now.
      await rm(tempFile, { force: true });
      return;
    }
    await rename(tempFile, dest);
  }
}
