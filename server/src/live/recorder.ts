/**
 * The recording of a live stream: its Ogg pages exactly as aired, header pages first, so the file is the broadcast
 * as the clusters heard it. Written under a temporary name and renamed when complete, so a crash never leaves a
 * truncated file where the content library would adopt it.
 */
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';

export class Recorder {
  private readonly tmp: string;
  private readonly out: WriteStream;
  private failed: Error | null = null;
  bytes = 0;

  constructor(readonly path: string) {
    this.tmp = `${path}.part`;
    // Asynchronous writes: a slow disk must not stall the event loop, and with it the pacer.
    this.out = createWriteStream(this.tmp);
    this.out.on('error', (err) => (this.failed ??= err));
  }

  write(page: Buffer): void {
    if (this.failed) return;
    this.out.write(page);
    this.bytes += page.length;
  }

  /** Closes the file and moves it to `path`; rejects (and removes it) if any write failed. */
  async finish(): Promise<{ path: string; bytes: number }> {
    await new Promise<void>((resolve) => this.out.end(resolve));
    if (this.failed) {
      rmSync(this.tmp, { force: true });
      throw this.failed;
    }
    renameSync(this.tmp, this.path);
    return { path: this.path, bytes: this.bytes };
  }

  /** Drops the partial file (the stream never aired). */
  abort(): void {
    this.out.destroy();
    rmSync(this.tmp, { force: true });
  }
}
