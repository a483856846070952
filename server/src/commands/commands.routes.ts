import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CommandRecordSchema, SendCommandSchema } from '../../../schemas/api/commands.ts';
import { IdSchema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';

const params = Type.Object({ id: IdSchema });
const tags = ['commands'];

export const commandsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.post('/clusters/:id/commands', {
    config: { roles: ['admin', 'technician'] },
    schema: { tags, params, body: SendCommandSchema, response: { 202: CommandRecordSchema, 200: CommandRecordSchema } },
  }, async (req, reply) => {
    s.clusters.get(req.params.id, req.actor);
    const sent = await s.commands.send(req.params.id, req.body, req.actor);
    await s.audit.record(req.actor, 'cluster.command', { type: 'cluster', id: req.params.id }, { commandId: sent.id, name: sent.name, args: sent.args });
    if (!req.body.waitS) return reply.status(202).send(sent);
    const done = await s.commands.waitFor(sent.id, req.body.waitS * 1000);
    return reply.status(done && done.state !== 'sent' ? 200 : 202).send(done ?? sent);
  });

  app.get('/clusters/:id/commands', { schema: { tags, params, response: { 200: Type.Array(CommandRecordSchema) } } }, async (req) => {
    s.clusters.get(req.params.id, req.actor);
    return await s.commands.list(req.params.id);
  });
};
