import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../services.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const JobSchema = Type.Object({
  name: Type.String(),
  dueAt: Type.String(),
  intervalMs: Type.Integer(),
  attempts: Type.Integer({ description: 'failures in a row' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastRunAt: Type.Union([Type.String(), Type.Null()]),
  lastOkAt: Type.Union([Type.String(), Type.Null()]),
});

/** The durable jobs and how they are doing, for admins and technicians. */
export const jobsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.get('/jobs', { config: { roles: ['admin', 'technician'] }, schema: { tags: ['ops'], response: { 200: Type.Array(JobSchema) } } }, async () =>
    (await s.jobs.list()).map((j) => ({ name: j.name, dueAt: iso(j.dueAt)!, intervalMs: j.intervalMs, attempts: j.attempts, lastError: j.lastError, lastRunAt: iso(j.lastRunAt), lastOkAt: iso(j.lastOkAt) })),
  );
};
