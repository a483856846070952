import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LiveSessionInputSchema, LiveSessionSchema, RelaySourceInputSchema, RelaySourcePatchSchema, RelaySourceSchema, StreamStatusSchema } from '../../../schemas/api/live.ts';
import type { Services } from '../services.ts';
import { streamVisible } from './visibility.ts';

const params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const tags = ['live'];
const editors = ['admin', 'operator', 'approver'] as ('admin' | 'operator' | 'approver')[];
/** How often the console is told who is listening. */
const STATUS_EVERY_MS = 1000;

export const liveRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.get('/live/sources', { schema: { tags, querystring: Type.Object({ areaId: Type.Optional(Type.String({ maxLength: 64 })) }), response: { 200: Type.Array(RelaySourceSchema) } } }, async (req) =>
    s.relaySources.list(req.actor, req.query.areaId),
  );
  app.get('/live/sources/:id', { schema: { tags, params, response: { 200: RelaySourceSchema } } }, async (req) => s.relaySources.get(req.params.id, req.actor));
  app.post('/live/sources', { config: { roles: editors }, schema: { tags, body: RelaySourceInputSchema, response: { 201: RelaySourceSchema } } }, async (req, reply) =>
    reply.status(201).send(await s.relaySources.create(req.body, req.actor)),
  );
  app.patch('/live/sources/:id', { config: { roles: editors }, schema: { tags, params, body: RelaySourcePatchSchema, response: { 200: RelaySourceSchema } } }, async (req) =>
    s.relaySources.update(req.params.id, req.body, req.actor),
  );
  app.delete('/live/sources/:id', { config: { roles: editors }, schema: { tags, params } }, async (req, reply) => {
    await s.relaySources.delete(req.params.id, req.actor);
    return reply.status(204).send();
  });

  // Streams carry no area; what they relay is public radio, and a session's stream shows only its id.
  // Only the streams of what the caller may see: a relay source of its areas, a session of a broadcast it can open.
  app.get('/live/streams', { schema: { tags, response: { 200: Type.Array(StreamStatusSchema) } } }, async (req) => {
    const visible = [];
    for (const st of s.live.list()) if (await streamVisible(s, st, req.actor)) visible.push(st);
    return visible;
  });

  app.post('/live/sessions', { config: { roles: editors }, schema: { tags, body: LiveSessionInputSchema, response: { 201: LiveSessionSchema } } }, async (req, reply) =>
    reply.status(201).send(await s.liveSessions.create(req.body, req.actor)),
  );
  app.get('/live/sessions/:id', { schema: { tags, params, response: { 200: LiveSessionSchema } } }, async (req) => s.liveSessions.get(req.params.id, req.actor));
  app.post('/live/sessions/:id/end', { config: { roles: editors }, schema: { tags, params, response: { 200: LiveSessionSchema } } }, async (req) =>
    s.liveSessions.end(req.params.id, req.actor),
  );

  // The microphone: binary frames of the console's MediaRecorder (WebM/Opus or Ogg/Opus); text frames back with
  // the session's state and how many clusters play it. The session cookie authenticates the upgrade; the origin is
  // checked because browsers send cookies with cross-site WebSocket handshakes.
  app.get('/live/sessions/:id/audio', { websocket: true, config: { roles: editors }, schema: { tags, params, hide: true } }, (socket, req) => {
    const id = (req.params as { id: string }).id;
    const fail = (message: string, code = 1008) => {
      socket.send(JSON.stringify({ type: 'error', message }));
      socket.close(code, message.slice(0, 120));
    };
    if (!sameOrigin(req.headers.origin, `${req.protocol}://${req.host}`)) return fail('the microphone must be sent from this console');
    // The socket's handlers are attached now, before the session is looked up: audio sent meanwhile waits in
    // `early`, and a socket closed meanwhile closes the feed as soon as there is one.
    let feed: { write(chunk: Buffer): void; close(): void } | null = null;
    const early: Buffer[] = [];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    socket.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) return;
      if (feed) feed.write(data);
      else early.push(data);
    });
    socket.on('close', () => {
      closed = true;
      clearInterval(timer);
      feed?.close();
    });
    const status = async () => {
      try {
        const v = await s.liveSessions.get(id, req.actor);
        socket.send(JSON.stringify({ type: 'status', state: v.state, onAir: v.onAir, targeted: v.targeted, endReason: v.endReason }));
        if (v.state === 'ended') socket.close(1000, 'ended');
      } catch {
        socket.close(1011, 'session gone');
      }
    };
    void (async () => {
      let f: { write(chunk: Buffer): void; close(): void };
      try {
        f = await s.liveSessions.connect(id, req.actor);
      } catch (e) {
        return fail((e as Error).message);
      }
      feed = f;
      for (const chunk of early.splice(0)) f.write(chunk);
      if (closed) return f.close();
      timer = setInterval(() => void status(), STATUS_EVERY_MS);
      await status();
    })().catch(() => socket.close(1011, 'internal error'));
  });
};

/** Browsers always send Origin on a WebSocket handshake; a client with a bearer token may send none. */
function sameOrigin(origin: string | undefined, own: string): boolean {
  if (origin === undefined) return true;
  try {
    return new URL(origin).origin === new URL(own).origin;
  } catch {
    return false;
  }
}
