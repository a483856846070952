import type { User, Area } from './api/client.ts';

/** The signed-in user and the areas they can see; set once after sign-in by the shell. */
export const session: { user: User | null; areas: Area[] } = { user: null, areas: [] };

export const can = {
  broadcast: () => ['admin', 'operator', 'approver'].includes(session.user?.role ?? ''),
  approve: () => ['admin', 'approver'].includes(session.user?.role ?? ''),
  devices: () => ['admin', 'technician'].includes(session.user?.role ?? ''),
  admin: () => session.user?.role === 'admin',
};

/** Communes in scope; the user's own commune first (their areaIds), so the emergency screen can preselect it. */
export function communes(): Area[] {
  const list = session.areas.filter((a) => a.kind === 'commune');
  const mine = new Set(session.user?.areaIds ?? []);
  return [...list.filter((a) => mine.has(a.id)), ...list.filter((a) => !mine.has(a.id))];
}
export const areaName = (id: string) => session.areas.find((a) => a.id === id)?.name ?? id;
