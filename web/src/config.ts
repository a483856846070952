/**
 * Server-wide console settings: written into index.html by the server (`<script id="loa-config">`, the same JSON
 * as `GET /config.json`), so they are known before the first paint. Under `vite dev` the defaults apply.
 */
export interface ConsoleConfig {
  /** map tile URL template ({z}/{x}/{y}); '' = plain background */
  tileUrl: string;
  /** the station's time zone: every time shown or typed is wall-clock time there */
  timezone: string;
}

function read(): ConsoleConfig {
  const d: ConsoleConfig = { tileUrl: '', timezone: 'Asia/Ho_Chi_Minh' };
  try {
    const el = document.getElementById('loa-config');
    const v = el?.textContent ? JSON.parse(el.textContent) : {};
    if (typeof v.tileUrl === 'string') d.tileUrl = v.tileUrl;
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
