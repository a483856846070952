import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { Static, TSchema } from '@sinclair/typebox';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** A compiled JSON decoder for one payload schema. Unknown fields pass through untouched (forward compatibility). */
export function payloadCodec<S extends TSchema>(schema: S) {
  const check: TypeCheck<S> = TypeCompiler.Compile(schema);
  return {
    decode(payload: Buffer | string): Decoded<Static<S>> {
      let value: unknown;
      try {
        value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        return { ok: false, error: 'payload is not JSON' };
      }
      if (check.Check(value)) return { ok: true, value };
      const first = check.Errors(value).First();
      return { ok: false, error: first ? `${first.path || '/'}: ${first.message}` : 'invalid payload' };
    },
    encode(value: Static<S>): Buffer {
      return Buffer.from(JSON.stringify(value));
    },
    is: (value: unknown): value is Static<S> => check.Check(value),
  };
}
