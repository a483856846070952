import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import { MbtilesRepo } from './mbtiles.repo.ts';

export interface Tile {
  data: Buffer;
  type: string;
}

const DIR_TYPES: [ext: string, type: string][] = [['png', 'image/png'], ['jpg', 'image/jpeg'], ['jpeg', 'image/jpeg'], ['webp', 'image/webp']];

/** The image type from the first bytes: an MBTiles file says its format only in optional metadata. */
export function sniffType(b: Buffer): string {
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return 'application/octet-stream';
}

export type TileConfig = Pick<Config, 'LOA_TILE_DIR' | 'LOA_TILE_MBTILES'>;

/** Whether this server has tiles of its own, so the console should ask /tiles rather than LOA_TILE_URL. */
export const servesTiles = (c: Partial<TileConfig> | undefined): boolean => Boolean(c?.LOA_TILE_DIR?.trim() || c?.LOA_TILE_MBTILES?.trim());

/**
 * The server's own tiles for communes without internet: an MBTiles file, then a {z}/{x}/{y}.ext directory. The
 * settings are read on every call (like the console settings), and a file that cannot be opened is logged once and
 * then answered as "no tile": the map still shows every cluster without a background.
 */
export class TileStore {
  private mb: MbtilesRepo | null = null;
  private broken = '';

  constructor(
    private readonly config: TileConfig,
    private readonly log: FastifyBaseLogger,
  ) {}

  async tile(z: number, x: number, y: number): Promise<Tile | null> {
    const data = this.mbtiles()?.tile(z, x, y);
    if (data) return { data, type: sniffType(data) };
    const dir = this.config.LOA_TILE_DIR.trim();
    if (!dir) return null;
    for (const [ext, type] of DIR_TYPES) {
      try {
        // z, x and y are checked integers, so the path cannot leave the directory.
        return { data: await readFile(join(dir, String(z), String(x), `${y}.${ext}`)), type };
      } catch {
        /* try the next extension */
      }
    }
    return null;
  }

  private mbtiles(): MbtilesRepo | null {
    const file = this.config.LOA_TILE_MBTILES.trim();
    if (this.mb?.file === file) return this.mb;
    this.close();
    if (!file || file === this.broken) return null;
    try {
      this.mb = new MbtilesRepo(file);
    } catch (err) {
      this.broken = file;
      this.log.error({ err, file }, 'LOA_TILE_MBTILES cannot be opened; the map is drawn without tiles');
    }
    return this.mb;
  }

  close(): void {
    this.mb?.close();
    this.mb = null;
  }
}
