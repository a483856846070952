import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AckAlarmSchema, AlarmParamsSchema, AlarmQuerySchema, AlarmSchema } from '../../../schemas/api/alarms.ts';
import { ErrorBodySchema } from '../../../schemas/common.ts';
import type { Role } from '../shared/actor.ts';
import type { AlarmsService } from './alarms.service.ts';

const tags = ['alarms'];
const err = ErrorBodySchema;
/**
 * Technicians fix faults and admins run the fleet; operators too, because in a commune the radio officer is often the
 * one who sees the fault first and calls (or is) the technician — "xác nhận đã biết" is "I have seen it", not "fixed".
 * Approvers and viewers read only.
 */
const ackRoles: Role[] = ['admin', 'technician', 'operator'];

/** Alarms over HTTP, in the caller's area scope; registered with prefix /api. */
export const alarmsRoutes: FastifyPluginAsyncTypebox<{ services: { alarms: AlarmsService } }> = async (app, { services: s }) => {
  app.get('/alarms', {
    schema: { tags, description: 'Alarms newest first; `active=true` for the faults present now.', querystring: AlarmQuerySchema, response: { 200: Type.Array(AlarmSchema), 400: err, 404: err } },
  }, async (req) => s.alarms.list(req.query, req.actor));

  app.get('/alarms/:id', {
    schema: { tags, params: AlarmParamsSchema, response: { 200: AlarmSchema, 404: err } },
  }, async (req) => s.alarms.get(req.params.id, req.actor));

  app.post('/alarms/:id/ack', {
    config: { roles: ackRoles },
    schema: { tags, description: 'Acknowledges ("xác nhận đã biết") with an optional note; once per alarm (409 names who was first).', params: AlarmParamsSchema, body: AckAlarmSchema, response: { 200: AlarmSchema, 400: err, 403: err, 404: err, 409: err } },
  }, async (req) => s.alarms.acknowledge(req.params.id, req.body?.note, req.actor));
};
