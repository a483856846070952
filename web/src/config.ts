/**
 * Server-wide console settings: written into index.html by the server (`<script id="loa-config">`, the same JSON
 * as `GET /config.json`), so they are known before the first paint. Under `vite dev` the defaults apply.
 */
export interface ConsoleConfig {
  /** map tile URL template ({z}/{x}/{y}); '' = plain background */
  tileUrl: string;
  /** the station's time zone: every time shown or typed is wall-clock time there */
  timezone: string;
  /** text shown on the map for the tiles, e.g. "© OpenStreetMap"; '' = none */
  tileAttribution: string;
  /** whether the server has area outlines to draw (GET /api/map/outlines) */
  mapOutlines: boolean;
}

function read(): ConsoleConfig {
  const d: ConsoleConfig = { tileUrl: '', timezone: 'Asia/Ho_Chi_Minh', tileAttribution: '', mapOutlines: false };
  try {
    const el = document.getElementById('loa-config');
    const v = el?.textContent ? JSON.parse(el.textContent) : {};
    if (typeof v.tileUrl === 'string') d.tileUrl = v.tileUrl;
    if (typeof v.tileAttribution === 'string') d.tileAttribution = v.tileAttribution;
    if (typeof v.mapOutlines === 'boolean') d.mapOutlines = v.mapOutlines;
    if (typeof v.timezone === 'string' && v.timezone) {
      new Intl.DateTimeFormat('en', { timeZone: v.timezone }); // throws on a zone the browser does not know
      d.timezone = v.timezone;
    }
  } catch {
    /* keep the defaults */
  }
  return d;
}

export const config: ConsoleConfig = read();
