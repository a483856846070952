import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from '../common.ts';

export const ApprovalPolicySchema = Type.Union([Type.Literal('none'), Type.Literal('required'), Type.Literal('required-except-emergency')], {
  description: "whether an operator's broadcast here waits for an approver",
});

const HHMM = '([01][0-9]|2[0-3]):[0-5][0-9]';
export const SessionCapSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 60, description: 'e.g. Buổi sáng' }),
  from: Type.String({ pattern: `^${HHMM}$` }),
  to: Type.String({ pattern: `^${HHMM}$` }),
  maxMinutes: Type.Integer({ minimum: 1, maximum: 1440, description: 'scheduled airtime a day may not exceed in this window' }),
});
export type SessionCap = Static<typeof SessionCapSchema>;

/** A commune's broadcasting rules. Each field left out is inherited from the parent area (at the root: the server's defaults). */
export const AreaPolicySchema = Type.Object({
  timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone of the wall clock, e.g. Asia/Ho_Chi_Minh' })),
  quietHours: Type.Optional(Type.String({ pattern: `^$|^${HHMM}-${HHMM}$`, description: 'daily window with no normal or priority airings, e.g. 21:00-05:00; empty = none' })),
  sessions: Type.Optional(Type.Array(SessionCapSchema, { maxItems: 12, description: 'session caps: scheduled programmes in the window may not exceed maxMinutes a day' })),
});
export type AreaPolicy = Static<typeof AreaPolicySchema>;

export const AREA_KINDS = ['province', 'district', 'commune', 'hamlet', 'zone'] as const;

export const AreaSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    code: Type.Union([Type.String(), Type.Null()]),
    kind: Type.String({ description: AREA_KINDS.join(' | ') }),
    parentId: Type.Union([IdSchema, Type.Null()]),
    level: Type.Integer({ minimum: 0, description: 'depth in the tree; 0 for a root' }),
    approvalPolicy: Type.Union([ApprovalPolicySchema, Type.Null()], { description: 'null = inherited from the parent' }),
    policy: Type.Union([AreaPolicySchema, Type.Null()], { description: "the area's own rules; null = all inherited" }),
    effectivePolicy: Type.Object(
      { timeZone: Type.String(), quietHours: Type.String(), sessions: Type.Array(SessionCapSchema) },
      { description: 'the rules in force here, inherited fields filled in' },
    ),
  },
  { $id: 'Area' },
);
export type Area = Static<typeof AreaSchema>;

export const CreateAreaSchema = Type.Object({
  // 62, not 64: the area's group id `a-{id}` must itself be a valid topic level id.
  id: Type.Optional(Type.String({ pattern: IdSchema.pattern, maxLength: 62 })),
  name: Type.String({ minLength: 1, maxLength: 120 }),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  kind: Type.Union(AREA_KINDS.map((k) => Type.Literal(k))),
  parentId: Type.Optional(Type.Union([IdSchema, Type.Null()])),
  approvalPolicy: Type.Optional(Type.Union([ApprovalPolicySchema, Type.Null()])),
  policy: Type.Optional(Type.Union([AreaPolicySchema, Type.Null()])),
});
export type CreateArea = Static<typeof CreateAreaSchema>;

export const UpdateAreaSchema = Type.Partial(Type.Omit(CreateAreaSchema, ['id']));
export type UpdateArea = Static<typeof UpdateAreaSchema>;

export const AreaRollupSchema = Type.Object({
  areaId: IdSchema,
  clustersTotal: Type.Integer(),
  clustersOnline: Type.Integer(),
  clustersOnBattery: Type.Integer(),
  clustersWithFaults: Type.Integer(),
  speakersTotal: Type.Integer(),
  speakersWithFaults: Type.Integer(),
});
export type AreaRollup = Static<typeof AreaRollupSchema>;
