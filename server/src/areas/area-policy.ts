import type { AreaPolicy, SessionCap } from '../../../schemas/api/areas.ts';
import { badRequest } from '../shared/errors.ts';

/**
 * What TypeBox cannot say about a policy: that the zone exists and that the session caps make sense. Throws a 400
 * naming the field under `at` (body/policy).
 */
export function checkPolicy(policy: AreaPolicy | null | undefined, at = 'body/policy'): void {
  if (!policy) return;
  if (policy.timeZone !== undefined && !isTimeZone(policy.timeZone)) throw badRequest(`time zone ${policy.timeZone} is not an IANA zone such as Asia/Ho_Chi_Minh`, `${at}/timeZone`);
  if (policy.quietHours) {
    const [from, to] = policy.quietHours.split('-');
    // An empty window is spelled "", so a typo such as 21:00-21:00 is not silently read as "none".
    if (from === to) throw badRequest('quiet hours start and end at the same time; leave them empty for none', `${at}/quietHours`);
  }
  checkSessions(policy.sessions ?? [], `${at}/sessions`);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  }
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * A session (buổi phát) is a block of one day: it ends after it starts, so none runs over midnight (split it in two
 * if ever needed); caps are counted per window, so windows must not overlap or one airing would count twice.
 */
function checkSessions(sessions: SessionCap[], at: string): void {
  sessions.forEach((s, i) => {
    const length = minutes(s.to) - minutes(s.from);
    if (length <= 0) throw badRequest(`session "${s.name}" must end after it starts (${s.from}-${s.to}); a session cannot run over midnight`, `${at}/${i}/to`);
    if (s.maxMinutes > length) throw badRequest(`session "${s.name}" allows ${s.maxMinutes} minutes but lasts ${length}`, `${at}/${i}/maxMinutes`);
  });
  const order = sessions.map((s, i) => ({ i, from: minutes(s.from), to: minutes(s.to) })).sort((a, b) => a.from - b.from);
  for (let k = 1; k < order.length; k++) {
    const [prev, cur] = [order[k - 1], order[k]];
    if (cur.from < prev.to) throw badRequest(`session "${sessions[cur.i].name}" overlaps session "${sessions[prev.i].name}"`, `${at}/${cur.i}/from`);
  }
}
