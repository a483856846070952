import type { Cluster } from '../api/client.ts';
import { t } from '../i18n/index.ts';
import { fmtTimeDay } from '../i18n/time.ts';
import { faultsText } from '../i18n/codes.ts';
import { statusOf, STATUS_LABEL } from './clusters.tsx';

/** How a cluster shows on the map, as HTML and words: shared by the page and its lazily loaded Leaflet side. */
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

/** "mất kết nối từ 14:05 03/12", or that it never connected. */
export const since = (c: Cluster) => (c.health.changedAt || c.health.lastSeen ? t('offlineSince', { when: fmtTimeDay(c.health.changedAt ?? c.health.lastSeen) }) : t('offlineNever'));
export function stateLine(c: Cluster, s: Status): string {
  if (s === 'offline') return cap(since(c));
  return t(STATUS_LABEL[s]) + (c.health.faults.length ? ' — ' + faultsText(c.health.faults, c.outputs) : '');
}
export const pinLabel = (c: Cluster, s: Status) => `${c.name}: ${stateLine(c, s)}`;
