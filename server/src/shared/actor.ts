import type { Scope } from '../areas/areas.service.ts';

export const ROLES = ['admin', 'operator', 'approver', 'technician', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting, as services see it: the HTTP layer builds this from the session; the system acts as itself. */
export interface Actor {
  id: string | null;
  name: string;
  role: Role | 'system';
  scope: Scope;
  ip?: string;
}

export const systemActor = (name = 'system'): Actor => ({ id: null, name, role: 'system', scope: 'all' });
