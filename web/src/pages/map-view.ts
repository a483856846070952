/**
 * The Leaflet side of the map page. map.tsx imports it dynamically, so it, Leaflet, the cluster plugin and their CSS
 * come (in parallel) when the map is first opened, like uPlot with a cluster's page: the first load carries only the
 * page and its lists. Only divIcons are used, so Leaflet never asks for its default marker images.
 */
import L from 'leaflet';
// A UMD script that extends the global L, which Leaflet sets as it is evaluated (imports run in order).
import 'leaflet.markercluster';
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import './map.css';
import type { FeatureCollection } from 'geojson';
import { request, type Cluster } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { navigate } from '../router.ts';
import { config } from '../config.ts';
import { statusOf } from './clusters.tsx';
import { PIN, esc, pinLabel, pinSvg, stateLine, type Status } from './map-pins.ts';

function pinIcon(c: Cluster, s: Status): L.DivIcon {
  // The box is the 44 px touch target; the drawn pin inside it is 26 px.
  return L.divIcon({
    className: 'pin-marker',
    html: `<span class="pin-hit s-${s}" data-cluster="${esc(c.id)}" data-status="${s}">${pinSvg(s)}<span class="sr-only">${esc(pinLabel(c, s))}</span></span>`,
    iconSize: [44, 44],
    iconAnchor: [22, 22],
    popupAnchor: [0, -12],
  });
}

/**
 * The popup's content, updated in place: a live update arriving while an officer taps the popup's link must not
 * swap the element under the finger (Leaflet re-lays out and pans a popup whose content is replaced).
 */
function popupContent(c: Cluster, s: Status, box: HTMLElement = document.createElement('div')): HTMLElement {
  if (!box.firstChild) {
    box.className = 'pin-popup';
    const a = document.createElement('a');
    a.onclick = (e) => (e.preventDefault(), navigate(a.getAttribute('href')!));
    box.append(a, document.createElement('div'));
  }
  box.dataset.cluster = c.id;
  const a = box.firstChild as HTMLAnchorElement;
  const line = box.lastChild as HTMLDivElement;
  a.href = '/clusters/' + c.id;
  a.textContent = c.name;
  line.className = 'small s-' + s;
  line.textContent = stateLine(c, s);
  return box;
}

/** A group of pins too close to tell apart: how many, and how many of them are offline or faulty, in text. */
function groupIcon(group: L.MarkerCluster, statuses: WeakMap<L.Marker, Status>): L.DivIcon {
  const kids = group.getAllChildMarkers();
  const count = (s: Status) => kids.filter((m) => statuses.get(m) === s).length;
  const [off, bad] = [count('offline'), count('fault')];
  const worst = off ? 'offline' : bad ? 'fault' : 'ok';
  const label = [t('pinGroup', { n: fmtNum(kids.length) }), off && t('pinGroupOffline', { n: fmtNum(off) }), bad && t('pinGroupFault', { n: fmtNum(bad) })].filter(Boolean).join(', ');
  const badge = (cls: string, sign: string, n: number) => (n ? `<span class="pin-badge ${cls}" aria-hidden="true">${sign}${fmtNum(n)}</span>` : '');
  return L.divIcon({
    className: 'pin-marker',
    html: `<span class="pin-group s-${worst}" data-count="${kids.length}" data-offline="${off}" data-faulty="${bad}"><b aria-hidden="true">${fmtNum(kids.length)}</b>${badge('b-offline', '×', off)}${badge('b-fault', '!', bad)}<span class="sr-only">${esc(label)} — ${esc(t('pinGroupZoom'))}</span></span>`,
    iconSize: [44, 44],
    iconAnchor: [22, 22],
  });
}

export interface View {
  map: L.Map;
  group: L.MarkerClusterGroup;
  pins: Map<string, { marker: L.Marker; key: string }>;
  statuses: WeakMap<L.Marker, Status>;
  fitted: boolean;
}

export function createView(el: HTMLElement, onTiles: (failed: boolean) => void): View {
  const map = L.map(el, { zoomControl: false, attributionControl: Boolean(config.tileUrl && config.tileAttribution), maxZoom: 18 });
  L.control.zoom({ zoomInTitle: t('zoomIn'), zoomOutTitle: t('zoomOut') }).addTo(map);
  map.attributionControl?.setPrefix(false);
  if (config.tileUrl) {
    let loaded = 0;
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: esc(config.tileAttribution) })
      .on('tileload', () => (loaded++, onTiles(false)))
      .on('tileerror', (e: L.TileErrorEvent) => {
        e.tile.classList.add('tile-failed'); // no broken-image icons on the plain background
        if (!loaded) onTiles(true);
      })
      .addTo(map);
  }
  // Leaflet's close button says "Close popup" in English whatever the console's language.
  map.on('popupopen', (e: L.PopupEvent) => e.popup.getElement()?.querySelector('.leaflet-popup-close-button')?.setAttribute('aria-label', t('dismiss')));
  const statuses = new WeakMap<L.Marker, Status>();
  // 60 px: pins whose 44 px targets would overlap go into a group (the group sits at their centre, so a little
  // more than 44); they split as soon as they can be told apart.
  const group = L.markerClusterGroup({ maxClusterRadius: 60, showCoverageOnHover: false, spiderfyOnMaxZoom: true, iconCreateFunction: (g) => groupIcon(g, statuses) });
  if (config.mapOutlines) {
    request<FeatureCollection>('GET', '/api/map/outlines')
      .then((fc) => L.geoJSON(fc, { interactive: false, style: () => ({ className: 'area-outline', color: '#0b4f6c', weight: 2, opacity: 0.8, fillOpacity: 0.04 }) }).addTo(map))
      .catch(() => {}); // the map works without outlines
  }
  return { map, group, pins: new Map(), statuses, fitted: false };
}

/** Brings the pins in line with the list: new ones added, changed ones redrawn, gone ones removed. */
export function syncPins(v: View, items: Cluster[]): void {
  const { map, group, pins, statuses } = v;
  if (!v.fitted) {
    // The group clusters by zoom level, so it joins the map once the map has a view.
    const pts = items.filter((c) => c.lat !== null && c.lon !== null).map((c) => [c.lat!, c.lon!] as [number, number]);
    if (pts.length) map.fitBounds(L.latLngBounds(pts), { padding: [28, 28], maxZoom: 16, animate: false });
    else map.setView([16, 106], 5); // no coordinates yet: Việt Nam
    map.addLayer(group);
    v.fitted = true;
  }
  const seen = new Set<string>();
  let changed = false;
  for (const c of items) {
    if (c.lat === null || c.lon === null) continue;
    seen.add(c.id);
    const s = statusOf(c);
    const key = `${c.lat},${c.lon},${pinLabel(c, s)}`;
    const pin = pins.get(c.id);
    if (pin?.key === key) continue;
    const marker = pin?.marker ?? L.marker([c.lat, c.lon], { keyboard: true, riseOnHover: true }).bindPopup('', { minWidth: 160 });
    const moved = !marker.getLatLng().equals([c.lat, c.lon]);
    // The group places a pin when it is added, so a moved pin goes out and back in.
    if (pin && moved) group.removeLayer(marker);
    marker.setLatLng([c.lat, c.lon]).setIcon(pinIcon(c, s)).setZIndexOffset(PIN[s].z);
    const content = marker.getPopup()?.getContent();
    if (content instanceof HTMLElement) popupContent(c, s, content);
    else marker.setPopupContent(popupContent(c, s));
    statuses.set(marker, s);
    if (!pin || moved) group.addLayer(marker);
    pins.set(c.id, { marker, key });
    changed = true;
  }
  for (const [id, pin] of pins) {
    if (seen.has(id)) continue;
    group.removeLayer(pin.marker);
    pins.delete(id);
    changed = true;
  }
  // A group's icon counts the offline and faulty pins in it, so it is redrawn when a pin changes state.
  if (changed) group.refreshClusters();
}

