import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Cluster } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { fmtTimeDay } from '../i18n/time.ts';
import { faultsText } from '../i18n/codes.ts';
import { navigate } from '../router.ts';
import { useLoad } from '../hooks.ts';
import { Loading } from '../components/ui.tsx';
import { statusOf, STATUS_LABEL } from './clusters.tsx';
import type { View, syncPins } from './map-view.ts';

export type Status = ReturnType<typeof statusOf>;

export const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/*
 * Pins say their state by shape as well as colour (a tick, a bolt, "!", a cross), for colour-blind eyes and sunlit
 * phone screens. The offline pin is the darkest, ringed and drawn above the others: it is the one the issue found
 * hidden (a grey dot under a neighbour). Colours are SVG attributes, so no inline style meets the CSP.
 */
export const PIN: Record<Status, { fill: string; glyph: string; filled?: boolean; z: number }> = {
  ok: { fill: '#2e7d32', glyph: 'M8 13.5l3.5 3.5 6.5-7', z: 0 },
  battery: { fill: '#a36200', glyph: 'M14.5 5.5l-6 8.5h4.5l-1.5 6.5 6-8.5h-4.5z', filled: true, z: 200 },
  fault: { fill: '#b00020', glyph: 'M13 7.5v6.5M13 18v.2', z: 500 },
  offline: { fill: '#3b2326', glyph: 'M9 9l8 8M17 9l-8 8', z: 1000 },
};
export function pinSvg(s: Status): string {
  const p = PIN[s];
  const ring = s === 'offline' ? '<circle cx="13" cy="13" r="12.2" fill="none" stroke="#b00020" stroke-width="1.6"/>' : '';
  const glyph = p.filled ? `<path d="${p.glyph}" fill="#fff"/>` : `<path d="${p.glyph}" fill="none" stroke="#fff" stroke-width="2.8" stroke-linecap="round" stroke-linejoin="round"/>`;
  return `<svg class="pin-svg" viewBox="0 0 26 26" width="26" height="26" aria-hidden="true" focusable="false"><circle cx="13" cy="13" r="10.5" fill="${p.fill}" stroke="#fff" stroke-width="2"/>${ring}${glyph}</svg>`;
}

const since = (c: Cluster) => (c.health.changedAt || c.health.lastSeen ? t('offlineSince', { when: fmtTimeDay(c.health.changedAt ?? c.health.lastSeen) }) : t('offlineNever'));
export function stateLine(c: Cluster, s: Status): string {
  if (s === 'offline') return cap(since(c));
  return t(STATUS_LABEL[s]) + (c.health.faults.length ? ' — ' + faultsText(c.health.faults, c.outputs) : '');
}
export const pinLabel = (c: Cluster, s: Status) => `${c.name}: ${stateLine(c, s)}`;

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
