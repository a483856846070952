import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { navigate } from '../router.ts';
import { useLoad } from '../hooks.ts';
import { config } from '../config.ts';
import { Loading } from '../components/ui.tsx';
import { statusOf, STATUS_LABEL } from './clusters.tsx';
import { faultsText } from '../i18n/codes.ts';

const TILE = 256;
const W = 800;
const H = 600;
// Web Mercator in "world pixels" at zoom z.
const px = (lon: number, z: number) => ((lon + 180) / 360) * TILE * 2 ** z;
const py = (lat: number, z: number) => {
  const s = Math.sin((lat * Math.PI) / 180);
  return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * TILE * 2 ** z;
};

/**
 * Clusters on a Web Mercator view. Tiles come from the server-wide URL template (LOA_TILE_URL, {z}/{x}/{y}, handed
 * over in the page's settings); with none set, or one failing (offline commune, tile server down), the clusters
 * still show on a plain background and the page says so. No map library: a few lines of maths.
 */
export function MapPage() {
  const list = useLoad(() => api.clusters({}), [], ['status', 'health']);
  const tileUrl = config.tileUrl;
  const [failed, setFailed] = useState<ReadonlySet<string>>(new Set());
  if (!list.data) return <Loading error={list.error} />;
  const faulty = list.data.items.filter((c) => c.health.faults.length);
  const pts = list.data.items.filter((c) => c.lat !== null && c.lon !== null);
  let z = 18;
  const lats = pts.map((c) => c.lat!);
  const lons = pts.map((c) => c.lon!);
  const [minLat, maxLat, minLon, maxLon] = pts.length ? [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)] : [10.3, 10.4, 106.3, 106.4];
  while (z > 2 && (px(maxLon, z) - px(minLon, z) > W * 0.85 || py(minLat, z) - py(maxLat, z) > H * 0.85)) z--;
  const cx = (px(minLon, z) + px(maxLon, z)) / 2 - W / 2;
  const cy = (py(maxLat, z) + py(minLat, z)) / 2 - H / 2;
  const tiles: { x: number; y: number; url: string }[] = [];
  if (tileUrl) {
    for (let tx = Math.floor(cx / TILE); tx <= Math.floor((cx + W) / TILE); tx++)
      for (let ty = Math.floor(cy / TILE); ty <= Math.floor((cy + H) / TILE); ty++)
        tiles.push({ x: tx * TILE - cx, y: ty * TILE - cy, url: tileUrl.replace('{z}', String(z)).replace('{x}', String(tx)).replace('{y}', String(ty)).replace('{s}', 'abc'[(tx + ty) % 3]).replace('{r}', '') });
  }
  return (
    <section>
      <h1>{t('map')}</h1>
      <div class="legend small">
        <span class="dot s-ok">{t('online')}</span> <span class="dot s-battery">{t('onBattery')}</span> <span class="dot s-fault">{t('faults')}</span> <span class="dot s-offline">{t('offline')}</span>
      </div>
      {tiles.length > 0 && tiles.every((tl) => failed.has(tl.url)) && (
        <p class="muted small" role="status" data-testid="no-tiles">
          {t('mapNoTiles')}
        </p>
      )}
      <div class="map" data-testid="map">
        <svg viewBox={`0 0 ${W} ${H}`} role="group" aria-label={t('map')}>
          <rect width={W} height={H} class="map-bg" />
          {tiles
            .filter((tl) => !failed.has(tl.url))
            .map((tl) => (
              <image href={tl.url} x={tl.x} y={tl.y} width={TILE} height={TILE} aria-hidden="true" onError={() => setFailed((p) => new Set(p).add(tl.url))} />
            ))}
          {pts.map((c) => {
            const s = statusOf(c);
            const label = `${c.name}: ${t(STATUS_LABEL[s])}${c.health.faults.length ? ' — ' + faultsText(c.health.faults, c.outputs) : ''}`;
            return (
              <a href={'/clusters/' + c.id} onClick={(e) => (e.preventDefault(), navigate('/clusters/' + c.id))} aria-label={label}>
                <circle cx={px(c.lon!, z) - cx} cy={py(c.lat!, z) - cy} r={9} class={'pin s-' + s} data-cluster={c.id}>
                  <title>{label}</title>
                </circle>
              </a>
            );
          })}
        </svg>
      </div>
      <h2>{t('currentFaults')}</h2>
      {faulty.length ? (
        <ul class="list" data-testid="fault-list">
          {faulty.map((c) => (
            <li>
              <a href={'/clusters/' + c.id} onClick={(e) => (e.preventDefault(), navigate('/clusters/' + c.id))}>
                {c.name}
              </a>
              <span class="row-meta">{faultsText(c.health.faults, c.outputs)}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">{t('noFaults')}</p>
      )}

    </section>
  );
}
