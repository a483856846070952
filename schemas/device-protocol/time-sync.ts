import { Type, type Static } from '@sinclair/typebox';

/** NTP-style exchange over MQTT: t0 device send, t1 server receive, t2 server send, t3 device receive. */
export const TimeRequestSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    t0: Type.Number({ minimum: 0, description: 'device clock at send, ms since epoch (may be fractional)' }),
  },
  { $id: 'TimeRequest' },
);
export type TimeRequest = Static<typeof TimeRequestSchema>;

export const TimeResponseSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    t0: Type.Number({ minimum: 0 }),
    t1: Type.Number({ minimum: 0, description: 'server clock when the request arrived' }),
    t2: Type.Number({ minimum: 0, description: 'server clock when the response left' }),
  },
  { $id: 'TimeResponse' },
);
export type TimeResponse = Static<typeof TimeResponseSchema>;

/** offset = server − device; add it to a device reading to get server time. */
export function clockOffset(t0: number, t1: number, t2: number, t3: number): { offsetMs: number; rttMs: number } {
  return { offsetMs: (t1 - t0 + (t2 - t3)) / 2, rttMs: t3 - t0 - (t2 - t1) };
}
