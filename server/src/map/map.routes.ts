import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.ts';
import type { AreasService } from '../areas/areas.service.ts';
import { badRequest, notFound } from '../shared/errors.ts';
import { TileStore } from './tiles.ts';
import { OutlineFile } from './outlines.ts';

const tags = ['map'];
const TileParams = Type.Object({
  z: Type.Integer({ minimum: 0, maximum: 30 }),
  x: Type.Integer({ minimum: 0 }),
  y: Type.Integer({ minimum: 0 }),
});
const OutlinesSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(Type.Unknown(), { description: 'GeoJSON features (Polygon, MultiPolygon, LineString, MultiLineString) with properties.areaId' }),
});

export interface MapDeps {
  /** read per request: tests and a reloading operator may change the settings of a live app */
  config: Config;
  areas: Pick<AreasService, 'inScope'>;
}

/**
 * The console map's own data: tiles from LOA_TILE_MBTILES / LOA_TILE_DIR and area outlines from LOA_AREA_OUTLINES.
 *
 * Both need a session like every other route. A tile is not secret, but a public /tiles would make the server a free
 * tile service for anyone who reaches it (a commune LAN, or the internet when it is exposed) and let them pull the
 * whole MBTiles file tile by tile; and it costs the console nothing, since the map is only shown after sign-in and
 * the browser sends the session cookie with its same-origin tile requests.
 */
export const mapRoutes: FastifyPluginAsyncTypebox<MapDeps> = async (app, { config, areas }) => {
  const tiles = new TileStore(config, app.log);
  const outlines = new OutlineFile(() => config.LOA_AREA_OUTLINES, app.log);
  app.addHook('onClose', async () => tiles.close());

  app.get('/tiles/:z/:x/:y', { schema: { tags, summary: 'a map tile (XYZ rows, north first)', params: TileParams } }, async (req, reply) => {
    const { z, x, y } = req.params;
    const n = 2 ** z;
    if (x >= n) throw badRequest(`params/x must be below ${n} at zoom ${z}`, 'params/x');
    if (y >= n) throw badRequest(`params/y must be below ${n} at zoom ${z}`, 'params/y');
    const tile = await tiles.tile(z, x, y);
    if (!tile) throw notFound('tile');
    // private: the response needed a session, so shared caches keep out of it; a day, as tile files rarely change.
    return reply.type(tile.type).header('cache-control', 'private, max-age=86400').send(tile.data);
  });

  app.get('/api/map/outlines', { schema: { tags, summary: 'area outlines the user may see', response: { 200: OutlinesSchema } } }, async (req) =>
    outlines.visible((areaId) => (areaId === undefined ? req.actor.scope === 'all' : areas.inScope(req.actor.scope, areaId))),
  );
};
