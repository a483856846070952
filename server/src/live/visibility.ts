import type { Services } from '../services.ts';
import type { Actor } from '../shared/actor.ts';
import { sessionOf } from './live.service.ts';

/**
 * Whether `actor` may see a live stream: a relay's when its source is of the actor's areas, a microphone's when the
 * actor can open the session's broadcast. The services answer 404 (or 403) otherwise; that is the answer here too.
 */
export async function streamVisible(s: Pick<Services, 'relaySources' | 'liveSessions'>, st: { streamId: string; sourceId: string | null }, actor: Actor): Promise<boolean> {
  try {
    if (st.sourceId) await s.relaySources.get(st.sourceId, actor);
    else await s.liveSessions.get(sessionOf(st.streamId), actor);
    return true;
  } catch {
    return false;
  }
}
