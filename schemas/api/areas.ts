import { Type, type Static } from '@sinclair/typebox';
import { IdSchema } from '../common.ts';

export const ApprovalPolicySchema = Type.Union([Type.Literal('none'), Type.Literal('required'), Type.Literal('required-except-emergency')], {
  description: "whether an operator's broadcast here waits for an approver",
});

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
