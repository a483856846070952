import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  ClusterDetailSchema, ClusterQuerySchema, ClusterSchema, CreateClusterSchema, ImportErrorSchema, ImportResultSchema,
  IssuedCredentialSchema, UpdateClusterSchema,
} from '../../../schemas/api/clusters.ts';
import { IdSchema } from '../../../schemas/common.ts';
import type { Services } from '../services.ts';
import { parseCsvImport, parseJsonImport } from './import.ts';

const params = Type.Object({ id: IdSchema });
const tags = ['clusters'];
const fleetRoles = ['admin', 'technician'] as const;

export const clustersRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services: s }) => {
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: 16 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  app.get('/clusters', {
    schema: { tags, querystring: ClusterQuerySchema, response: { 200: Type.Object({ items: Type.Array(ClusterSchema), total: Type.Integer() }) } },
  }, async (req) => s.clusters.list(req.query, req.actor));

  app.get('/clusters/:id', { schema: { tags, params, response: { 200: ClusterDetailSchema } } }, async (req) => s.clusters.get(req.params.id, req.actor));

  app.post('/clusters', {
    config: { roles: fleetRoles },
    schema: { tags, body: CreateClusterSchema, response: { 201: Type.Object({ cluster: ClusterDetailSchema, credential: IssuedCredentialSchema }) } },
  }, async (req, reply) => {
    const [credential] = await s.clusters.create([req.body], req.actor);
    return reply.status(201).send({ cluster: s.clusters.get(credential.clusterId, req.actor), credential });
  });

  app.post('/clusters/import', {
    config: { roles: fleetRoles },
    schema: {
      tags,
      description: 'Bulk provisioning from CSV (text/csv) or JSON (array). All rows are validated first; one bad row writes nothing and the response lists every bad row with its line.',
      body: Type.Unknown(),
      response: { 201: ImportResultSchema, 422: Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String(), field: Type.Optional(Type.String()), details: Type.Array(ImportErrorSchema) }) },
    },
  }, async (req, reply) => {
    const isCsv = (req.headers['content-type'] ?? '').startsWith('text/csv');
    const { rows, lines } = isCsv ? parseCsvImport(String(req.body ?? '')) : parseJsonImport(req.body);
    const credentials = await s.clusters.create(rows, req.actor, lines);
    return reply.status(201).send({ created: credentials.length, credentials });
  });

  app.patch('/clusters/:id', {
    config: { roles: fleetRoles },
    schema: { tags, params, body: UpdateClusterSchema, response: { 200: ClusterDetailSchema } },
  }, async (req) => s.clusters.update(req.params.id, req.body, req.actor));

  app.delete('/clusters/:id', { config: { roles: ['admin'] }, schema: { tags, params, response: { 204: Type.Null() } } }, async (req, reply) => {
    await s.clusters.delete(req.params.id, req.actor);
    return reply.status(204).send(null);
  });

  app.post('/clusters/:id/credential/rotate', {
    config: { roles: fleetRoles },
    schema: { tags, params, description: 'Issues a new secret (shown once) and disconnects the session opened with the old one.', response: { 200: IssuedCredentialSchema } },
  }, async (req) => s.clusters.rotateSecret(req.params.id, req.actor));

  app.post('/clusters/:id/credential/revoke', {
    config: { roles: fleetRoles },
    schema: { tags, params, description: 'Disconnects the device at once; it cannot reconnect until a new secret is issued.', response: { 204: Type.Null() } },
  }, async (req, reply) => {
    await s.clusters.revoke(req.params.id, req.actor);
    return reply.status(204).send(null);
  });
};
