import { readFileSync, statSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';

export interface OutlineFeature {
  type: 'Feature';
  properties: { areaId?: string; [k: string]: unknown };
  geometry: { type: string; coordinates: unknown };
}
export interface Outlines {
  type: 'FeatureCollection';
  features: OutlineFeature[];
}

const SHAPES = new Set(['Polygon', 'MultiPolygon', 'LineString', 'MultiLineString']);
const EMPTY: Outlines = { type: 'FeatureCollection', features: [] };

/** The features worth drawing: an outline (polygon or line) with coordinates; anything else in the file is skipped. */
export function parseOutlines(text: string): Outlines {
  const v = JSON.parse(text);
  if (v?.type !== 'FeatureCollection' || !Array.isArray(v.features)) throw new Error('not a GeoJSON FeatureCollection');
  const features = (v.features as any[]).filter((f) => f?.type === 'Feature' && SHAPES.has(f.geometry?.type) && Array.isArray(f.geometry.coordinates));
  return { type: 'FeatureCollection', features: features.map((f) => ({ type: 'Feature', properties: f.properties ?? {}, geometry: f.geometry })) };
}

/**
 * Area outlines from LOA_AREA_OUTLINES (a GeoJSON file the operator drops in), read again when the file changes.
 * A file that is missing or not GeoJSON is logged once per change and drawn as nothing: the map works without it.
 */
export class OutlineFile {
  private cached: { file: string; mtimeMs: number; outlines: Outlines } | null = null;

  constructor(
    private readonly file: () => string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The outlines of areas the user may see; one without an areaId only for users who see everything. */
  visible(canSee: (areaId: string | undefined) => boolean): Outlines {
    const all = this.read();
    return { type: 'FeatureCollection', features: all.features.filter((f) => canSee(typeof f.properties.areaId === 'string' ? f.properties.areaId : undefined)) };
  }

  private read(): Outlines {
    const file = this.file().trim();
    if (!file) return EMPTY;
    let mtimeMs = -1;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      /* missing: logged below, once */
    }
    if (this.cached?.file === file && this.cached.mtimeMs === mtimeMs) return this.cached.outlines;
    let outlines = EMPTY;
    try {
      outlines = parseOutlines(readFileSync(file, 'utf8'));
    } catch (err) {
      this.log.error({ err, file }, 'LOA_AREA_OUTLINES cannot be read as GeoJSON; the map is drawn without outlines');
    }
    this.cached = { file, mtimeMs, outlines };
    return outlines;
  }
}
