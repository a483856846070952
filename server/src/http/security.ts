import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';

/**
 * The CSP source that lets the console's map load tiles from LOA_TILE_URL. A `{s}` (or other placeholder) in the
 * first host label is a rotating subdomain, so it becomes `*`. A relative template is served by us and 'self' covers it.
 */
export function tileSource(tileUrl: string): string | null {
  const m = /^(https?):\/\/([^/?#]+)/i.exec(tileUrl.trim());
  if (!m) return null;
  const host = m[2].replace(/^\{[^}]*\}\./, '*.');
  // Any other placeholder would make the source unparseable; the browser would then drop it and tiles would fail
  // noisily, which is better than widening img-src to every host.
  return /[{}\s;,']/.test(host) ? null : `${m[1].toLowerCase()}://${host.toLowerCase()}`;
}

/**
 * Security headers on every response. The console is a Vite build: scripts and styles come from /assets only (the
 * `<script type="application/json">` with the settings is data, which CSP does not govern), and Preact sets `style`
 * through the CSSOM, which style-src does not restrict, so no 'unsafe-inline' is needed. Live updates are an
 * EventSource on /api/stream, so connect-src 'self' suffices; /mqtt is for devices, not the console. Swagger UI at
 * /docs is external scripts and stylesheets too, with data: icons, so it lives under the same policy.
 */
export async function securityHeaders(app: FastifyInstance, tileUrl: () => string): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // A function, because the tile URL is read per request like the rest of the console settings.
        imgSrc: ["'self'", 'data:', () => tileSource(tileUrl()) ?? ''],
        mediaSrc: ["'self'"],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        // No upgrade-insecure-requests: a commune LAN install is often plain http, where it would break every asset.
      },
    },
    // Without includeSubDomains: the operator's other hosts under the same domain are not ours to pin to https.
    strictTransportSecurity: { maxAge: 15_552_000, includeSubDomains: false },
    referrerPolicy: { policy: 'same-origin' },
    // Devices fetch audio outside any browser; CORP same-origin only stops other sites embedding it.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * For a state-changing request that a browser's cookie authenticates: whether it was sent by a page of this origin.
 * SameSite=Strict already keeps the cookie off cross-site requests; this also covers same-site but cross-origin pages
 * (another service on a sibling subdomain or port) and browsers that ignore SameSite. Origin is what browsers send on
 * such requests; Referer is the fallback for the few that omit it. With neither, the request is refused.
 */
export function fromOwnOrigin(req: FastifyRequest): boolean {
  if (!UNSAFE_METHODS.has(req.method)) return true;
  const sent = req.headers.origin ?? req.headers.referer;
  if (!sent || sent === 'null') return false;
  try {
    // req.protocol and req.host honour X-Forwarded-Proto/-Host only when LOA_TRUST_PROXY is on.
    return new URL(sent).origin === new URL(`${req.protocol}://${req.host}`).origin;
  } catch {
    return false;
  }
}
