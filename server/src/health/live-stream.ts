import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.ts';
import { streamVisible } from '../live/visibility.ts';

/** One Server-Sent Events connection; each domain event goes out only if the cluster is in the caller's scope. */
export function liveStream(s: Services, req: FastifyRequest, reply: FastifyReply): void {
  const scope = req.actor.scope;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const visible = (areaId: string) => s.areas.inScope(scope, areaId);
  send('hello', { at: new Date(s.clock.now()).toISOString() });
  // This instance's events and, beside other instances on one database, theirs (shared/instance-changes.ts).
  const on = <K extends Parameters<typeof s.bus.on>[0]>(name: K, fn: Parameters<typeof s.bus.on<K>>[1]) => [s.bus.on(name, fn), s.remote.on(name, fn)];
  const offs = [
    ...on('cluster.status', (p) => visible(p.areaId) && send('status', { ...p, at: new Date(p.at).toISOString() })),
    ...on('cluster.health', (p) => visible(p.areaId) && send('health', { ...p, at: new Date(p.at).toISOString() })),
    ...on('cluster.event', (p) => visible(p.areaId) && send('event', p)),
    ...on('airing.report', (p) => visible(s.directory.areaOf(p.clusterId) ?? '') && send('airing', p)),
    ...on('broadcast.changed', (p) => send('broadcast', p)),
    ...on('programme.changed', (p) => visible(p.areaId) && send('programme', p)),
    // Decided asynchronously (a session's visibility is read from the database): the connection may be gone by then.
    ...on('live.changed', (p) => void streamVisible(s, p, req.actor).then((ok) => ok && !res.destroyed && send('live', p), () => undefined)),
    ...on('alarm.changed', (p) => visible(p.areaId) && send('alarm', { ...p, at: new Date(p.at).toISOString() })),
  ];
  // Proxies and phones on 4G drop idle connections; a comment every 15 s keeps the stream open.
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.raw.on('close', () => {
    clearInterval(ping);
    offs.forEach((off) => off());
  });
}
