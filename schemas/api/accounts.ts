import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, OffsetSchema, TimestampSchema } from '../common.ts';

/** Same list as server/src/shared/actor.ts ROLES; the web console imports schemas only, never server code. */
export const USER_ROLES = ['admin', 'operator', 'approver', 'technician', 'viewer'] as const;
export const RoleSchema = Type.Union(USER_ROLES.map((r) => Type.Literal(r)), { description: USER_ROLES.join(' | ') });
export const LocaleSchema = Type.Union([Type.Literal('vi'), Type.Literal('en')], { default: 'vi' });

/** Long passphrases beat complexity rules (NIST SP 800-63B §5.1.1); the cap bounds hashing work per request. */
export const PasswordSchema = Type.String({ minLength: 10, maxLength: 200 });
export const UsernameSchema = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{1,31}$',
  description: 'lowercase a-z, 0-9, dot, underscore, hyphen; 2–32 chars',
});
const DisplayNameSchema = Type.String({ minLength: 1, maxLength: 120 });
const AreaIdsSchema = Type.Array(IdSchema, { maxItems: 200, uniqueItems: true, description: 'roots of the subtrees the user may see; an admin with none sees everything' });

export const UserSchema = Type.Object({
  id: IdSchema,
  username: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  role: RoleSchema,
  areaIds: Type.Array(IdSchema),
  locale: LocaleSchema,
  disabled: Type.Boolean(),
  createdAt: TimestampSchema,
});
export type User = Static<typeof UserSchema>;

export const CreateUserSchema = Type.Object(
  {
    username: UsernameSchema,
    password: PasswordSchema,
    displayName: Type.Optional(DisplayNameSchema),
    role: RoleSchema,
    areaIds: Type.Optional(AreaIdsSchema),
    locale: Type.Optional(LocaleSchema),
  },
  { additionalProperties: false },
);
export type CreateUser = Static<typeof CreateUserSchema>;

/** `password` here is an admin reset: it signs the user out everywhere. */
export const UpdateUserSchema = Type.Object(
  {
    displayName: Type.Optional(Type.Union([DisplayNameSchema, Type.Null()])),
    role: Type.Optional(RoleSchema),
    areaIds: Type.Optional(AreaIdsSchema),
    locale: Type.Optional(LocaleSchema),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(PasswordSchema),
  },
  { additionalProperties: false },
);
export type UpdateUser = Static<typeof UpdateUserSchema>;

/** What a user may change about themselves. */
export const UpdateSelfSchema = Type.Object(
  { displayName: Type.Optional(Type.Union([DisplayNameSchema, Type.Null()])), locale: Type.Optional(LocaleSchema) },
  { additionalProperties: false },
);
export type UpdateSelf = Static<typeof UpdateSelfSchema>;

/** Login fields are not pattern-checked: a sign-in form must not reveal which usernames could exist. */
export const LoginSchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 200 }),
});
export type Login = Static<typeof LoginSchema>;

export const LoginResponseSchema = Type.Object({
  token: Type.String({ description: 'bearer token; the same value is set as the HttpOnly cookie loa_session' }),
  expiresAt: TimestampSchema,
  user: UserSchema,
});
export type LoginResponse = Static<typeof LoginResponseSchema>;

export const ChangePasswordSchema = Type.Object({
  currentPassword: Type.String({ minLength: 1, maxLength: 200 }),
  newPassword: PasswordSchema,
});
export type ChangePassword = Static<typeof ChangePasswordSchema>;

/** First run only: the token comes from the setup link the server logs when no admin exists. */
export const SetupSchema = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  username: Type.Optional(UsernameSchema),
  password: PasswordSchema,
  displayName: Type.Optional(DisplayNameSchema),
});
export type Setup = Static<typeof SetupSchema>;

export const SetupStatusSchema = Type.Object({ needed: Type.Boolean({ description: 'true until the first admin exists' }) });

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: TimestampSchema,
  actorId: Type.Union([Type.String(), Type.Null()]),
  actorName: Type.String(),
  action: Type.String({ description: 'e.g. user.create, area.update, session.login' }),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown(),
  ip: Type.Union([Type.String(), Type.Null()]),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditQuerySchema = Type.Object({
  actorId: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  targetId: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(TimestampSchema),
  to: Type.Optional(TimestampSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(OffsetSchema),
});
export type AuditQuery = Static<typeof AuditQuerySchema>;
