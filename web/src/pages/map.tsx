import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Cluster } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { faultsText } from '../i18n/codes.ts';
import { navigate } from '../router.ts';
import { useLoad } from '../hooks.ts';
import { Loading } from '../components/ui.tsx';
import { STATUS_LABEL } from './clusters.tsx';
import type { View, syncPins } from './map-view.ts';
import { pinSvg, since } from './map-pins.ts';

/** The map box; its Leaflet code (map-view.ts) and Leaflet itself arrive when it is first shown. */
function MapView({ items }: { items: Cluster[] | undefined }) {
  const el = useRef<HTMLDivElement>(null);
  const view = useRef<{ v: View; sync: typeof syncPins } | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');
  const [noTiles, setNoTiles] = useState(false);
  useEffect(() => {
    let alive = true;
    import('./map-view.ts')
      .then((m) => {
        if (!alive || !el.current) return;
        view.current = { v: m.createView(el.current, setNoTiles), sync: m.syncPins };
        setState('ready');
      })
      .catch(() => alive && setState('failed'));
    return () => {
      alive = false;
      view.current?.v.map.remove();
      view.current = null;
    };
  }, []);
  useEffect(() => {
    if (state === 'ready' && view.current && items) view.current.sync(view.current.v, items);
  }, [state, items]);
  return (
    <>
      <div class="legend small" aria-hidden="true">
        {(['ok', 'battery', 'fault', 'offline'] as const).map((s) => (
          <span class="legend-pin">
            <span dangerouslySetInnerHTML={{ __html: pinSvg(s) }} />
            {t(STATUS_LABEL[s])}
          </span>
        ))}
      </div>
      {noTiles && (
        <p class="muted small" role="status" data-testid="no-tiles">
          {t('mapNoTiles')}
        </p>
      )}
      {state === 'failed' && (
        <p class="banner error" role="alert">
          {t('mapFailed')}
        </p>
      )}
      <div class="map-box" data-testid="map" data-state={state} role="region" aria-label={t('mapLabel')}>
        <div ref={el} class="map-canvas" />
      </div>
    </>
  );
}

const link = (c: Cluster) => (
  <a href={'/clusters/' + c.id} onClick={(e) => (e.preventDefault(), navigate('/clusters/' + c.id))}>
    {c.name}
  </a>
);

/**
 * Clusters on a Leaflet map: zoom and pan, a pin per cluster (its name on tap, linking to its page), close pins
 * grouped. Tiles come from the console settings (the server's own /tiles for an office without internet, or
 * LOA_TILE_URL); without them, or with all failing, the pins still show on a plain background and the page says so.
 * The lists under the map (offline clusters since when, current faults) are the complete, keyboard and screen-reader
 * path: the map adds where, not what.
 */
export function MapPage() {
  const list = useLoad(() => api.clusters({}), [], ['status', 'health']);
  const items = list.data?.items;
  const offline = items?.filter((c) => !c.health.online) ?? [];
  const faulty = items?.filter((c) => c.health.faults.length) ?? [];
  return (
    <section>
      <h1>{t('map')}</h1>
      <p class="muted small">{t('mapHint')}</p>
      <MapView items={items} />
      {!items ? (
        <Loading error={list.error} />
      ) : (
        <>
          <h2>{t('offlineClusters')}</h2>
          {offline.length ? (
            <ul class="list" data-testid="offline-list">
              {offline.map((c) => (
                <li data-cluster={c.id}>
                  {link(c)}
                  <span class="row-meta s-offline">{since(c)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t('noOffline')}</p>
          )}
          <h2>{t('currentFaults')}</h2>
          {faulty.length ? (
            <ul class="list" data-testid="fault-list">
              {faulty.map((c) => (
                <li data-cluster={c.id}>
                  {link(c)}
                  <span class="row-meta">{faultsText(c.health.faults, c.outputs)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t('noFaults')}</p>
          )}
        </>
      )}
    </section>
  );
}
