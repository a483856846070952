import { Type, type Static } from '@sinclair/typebox';

/** Stable identifiers: lowercase ASCII, digits and hyphens, so they are safe in MQTT topic levels and URLs. */
export const IdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$', description: 'lowercase id: a-z, 0-9, hyphen; 3–64 chars' });
export type Id = Static<typeof IdSchema>;

/** Wall-clock instants on the HTTP API are ISO 8601 strings in UTC. */
export const TimestampSchema = Type.String({ format: 'date-time', description: 'ISO 8601 instant, UTC' });

/** Device-side instants are integer milliseconds since the Unix epoch, as measured by the device's own clock. */
export const EpochMsSchema = Type.Integer({ minimum: 0, description: 'milliseconds since 1970-01-01T00:00:00Z' });

export const Sha256Schema = Type.String({ pattern: '^[a-f0-9]{64}$', description: 'lowercase hex sha256' });

export const ErrorBodySchema = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'the offending field, as a JSON pointer-ish path (e.g. body/name)' })),
    details: Type.Optional(Type.Array(Type.Unknown())),
  },
  { $id: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

/**
 * Without a maximum, ajv accepts 99999999999999999999999 as an integer (1e23) and SQLite refuses it in OFFSET
 * ("datatype mismatch"), a 500. A billion rows is far past any list this server keeps.
 */
export const OffsetSchema = Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 });

export const PageQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(OffsetSchema),
});
