import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NowNextSchema, TimetableQuerySchema, TimetableSchema } from '../../../schemas/api/timetable.ts';
import type { Services } from '../services.ts';
import { timetableIcs } from './ics.ts';

const tags = ['timetable'];

export const timetableRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.get('/timetable', { schema: { tags, querystring: TimetableQuerySchema, response: { 200: TimetableSchema } } }, async (req) => s.timetable.query(req.query, req.actor));

  app.get('/timetable/now', { schema: { tags, querystring: TimetableQuerySchema, response: { 200: NowNextSchema } } }, async (req) => s.timetable.nowNext(req.query, req.actor));

  // Authenticated like the rest (a session cookie when downloaded from the console): a timetable says when a
  // commune's speakers are silent, which is not for anyone who guesses a URL.
  app.get('/timetable.ics', { schema: { tags, querystring: TimetableQuerySchema } }, async (req, reply) => {
    const now = s.clock.now();
    const t = await s.timetable.query({ ...req.query, from: req.query.from ?? new Date(now - 86_400_000).toISOString(), to: req.query.to ?? new Date(now + 30 * 86_400_000).toISOString() }, req.actor);
    const name = req.query.clusterId ? s.clusters.nameOf(req.query.clusterId) : s.areas.nameOf(req.query.areaId ?? '');
    return reply
      .header('content-type', 'text/calendar; charset=utf-8')
      .header('content-disposition', `attachment; filename="lich-phat-${req.query.areaId ?? req.query.clusterId ?? 'loa-xa'}.ics"`)
      .send(timetableIcs(t, name));
  });
};
