import type { Actor, Role } from '../shared/actor.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Every route requires a signed-in user unless it says otherwise here:
     * 'public' — no authentication (each such route states why); 'device' — a cluster's own MQTT credentials.
     */
    auth?: 'public' | 'device';
    /** Roles allowed; omitted = any signed-in user. */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    actor: Actor;
    /** set on 'device' routes: the authenticated cluster */
    deviceId?: string;
  }
}

export {};
