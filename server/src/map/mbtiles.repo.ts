import Database from 'better-sqlite3';

/**
 * One MBTiles file (https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md): a SQLite database with
 * `tiles(zoom_level, tile_column, tile_row, tile_data)`. Rows count from the south (TMS), so the XYZ row y the
 * browser asks for is stored as 2^z − 1 − y. Opened read-only: the file is the operator's, we never write to it.
 */
export class MbtilesRepo {
  private readonly db: Database.Database;
  private readonly byTile: Database.Statement<[number, number, number], { tile_data: Buffer }>;

  constructor(readonly file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.byTile = this.db.prepare('SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?');
  }

  tile(z: number, x: number, y: number): Buffer | null {
    return this.byTile.get(z, x, 2 ** z - 1 - y)?.tile_data ?? null;
  }

  close(): void {
    this.db.close();
  }
}
