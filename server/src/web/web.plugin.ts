import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { servesTiles } from '../map/tiles.ts';

export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** What the console needs to know about the server before any sign-in. Nothing secret: no data, no keys. */
export interface ConsoleConfig {
  /** map tile URL template with {z}/{x}/{y} (optionally {s}); '' = clusters on a plain background */
  tileUrl: string;
  /** IANA zone of the station: every time the console shows or reads is wall-clock time there */
  timezone: string;
  /** text shown on the map for the tiles (LOA_TILE_ATTRIBUTION), e.g. "© OpenStreetMap"; '' = none */
  tileAttribution: string;
  /** whether GET /api/map/outlines has area outlines to draw (LOA_AREA_OUTLINES is set) */
  mapOutlines: boolean;
}

/** The console settings from the server configuration (read per request: a test may change them on a live app). */
export function consoleConfig(app: FastifyInstance): ConsoleConfig {
  const cfg = app.loa?.services?.config;
  const str = (v: unknown, d: string) => (typeof v === 'string' && v.trim() ? v.trim() : d);
  return {
    // The server's own tiles win: they were set up for a commune office with no internet.
    tileUrl: servesTiles(cfg) ? '/tiles/{z}/{x}/{y}' : str(cfg?.LOA_TILE_URL, ''),
    timezone: str(cfg?.LOA_TIMEZONE, 'Asia/Ho_Chi_Minh'),
    tileAttribution: str(cfg?.LOA_TILE_ATTRIBUTION, ''),
    mapOutlines: Boolean(str(cfg?.LOA_AREA_OUTLINES, '')),
  };
}

/** JSON inside <script type="application/json">: `<` escaped so no value can close the element. */
const inlineJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/**
 * Serves the built console (web/dist, `npm run build:web`). Hashed files under /assets are cached for a year;
 * index.html is never cached, so a new build reaches phones on the next load. Any other GET that is not an API
 * path answers index.html (the console routes in the browser, including /setup?token=…). Without a build the
 * fallback says how to make one. Precompressed .br/.gz files written by the build are preferred on a weak link.
 * The console settings (`GET /config.json`) are also written into the shell, so the first paint needs no extra
 * request.
 */
export async function webConsole(app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? WEB_DIST;
  // Public on purpose: static assets, the HTML shell and the console settings hold no data; every datum comes from
  // /api, which requires a session. This hook is encapsulated, so it marks only the routes of this plugin.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config as object), auth: 'public' } as typeof route.config;
  });
  await app.register(fastifyStatic, {
    root: root + 'assets',
    prefix: '/assets/',
    decorateReply: false,
    preCompressed: true,
    immutable: true,
    maxAge: '365d',
    index: false,
  });
  let cached: { mtimeMs: number; html: string } | null = null;
  const indexHtml = (): string | null => {
    const file = root + 'index.html';
    if (!existsSync(file)) return null;
    const { mtimeMs } = statSync(file);
    if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(file, 'utf8') };
    return cached.html;
  };
  app.get('/config.json', { schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-cache').send(consoleConfig(app)));
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0];
    // API, device, MQTT and tile paths keep their JSON 404s; only console routes fall back to the shell.
    if (/^\/(api|mqtt|assets|tiles)(\/|$)/.test(path)) return reply.callNotFound();
    const html = indexHtml();
    if (!html) return reply.status(503).type('text/plain; charset=utf-8').send('Console not built: run `npm run build:web` (npm start does it when web/dist is missing).');
    const withConfig = html.replace('</head>', `<script type="application/json" id="loa-config">${inlineJson(consoleConfig(app))}</script></head>`);
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(withConfig);
  });
}
