import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { on } from '../api/live.ts';
import { t } from '../i18n/index.ts';
import { navigate } from '../router.ts';
import { can, session } from '../session.ts';

interface Notice {
  id: number;
  broadcastId: string;
  text: string;
  tone: 'ok' | 'error' | 'info';
}

let seq = 0;

/**
 * Tells people, live, what others did with a bulletin that concerns them: the sender when it is approved or rejected
 * (with the reason), an approver when a new one waits. The words come from the broadcast itself, fetched when the
 * event arrives: the event carries only ids and the cause.
 */
export function Notices() {
  const [list, setList] = useState<Notice[]>([]);
  useEffect(
    () =>
      on('broadcast', (p: { broadcastId: string; cause?: string; by?: string; byName?: string | null; createdBy?: string | null }) => {
        const me = session.user?.username;
        if (!p.cause || !me || p.by === me) return;
        const mine = p.createdBy === me && (p.cause === 'approved' || p.cause === 'rejected');
        const toApprove = p.cause === 'submitted' && can.approve();
        if (!mine && !toApprove) return;
        api.broadcast(p.broadcastId).then(
          (b) => {
            const by = p.byName ?? p.by ?? '';
            const byText = by ? t('noticeBy', { name: by }) : '';
            const text =
              p.cause === 'approved'
                ? t('noticeApproved', { title: b.title, by: byText })
                : p.cause === 'rejected'
                  ? t('noticeRejected', { title: b.title, by: byText, reason: b.rejectReason ?? '' })
                  : t('noticeSubmitted', { title: b.title });
            setList((l) => [...l.slice(-2), { id: ++seq, broadcastId: b.id, text, tone: p.cause === 'approved' ? 'ok' : p.cause === 'rejected' ? 'error' : 'info' }]);
          },
          () => {},
        );
      }),
    [],
  );
  const drop = (id: number) => setList((l) => l.filter((n) => n.id !== id));
  return (
    <div class="notices" role="status" aria-live="polite" data-testid="notices">
      {list.map((n) => (
        <div class={'notice ' + n.tone} key={n.id}>
          <a
            href={n.tone === 'info' ? '/approvals' : '/broadcasts/' + n.broadcastId}
            onClick={(e) => {
              e.preventDefault();
              drop(n.id);
              navigate(n.tone === 'info' ? '/approvals' : '/broadcasts/' + n.broadcastId);
            }}
          >
            {n.text}
          </a>
          <button type="button" class="link" onClick={() => drop(n.id)} aria-label={t('dismiss')}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/** How many bulletins wait for approval, for the "Duyệt tin" badge; kept live by the broadcast events. */
export function usePendingCount(): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!can.approve()) return;
    const load = () => api.broadcasts({ state: 'pending_approval', limit: 100 }).then((l) => setN(l.length), () => {});
    load();
    const offs = [on('broadcast', load), on('reconnect', load)];
    return () => offs.forEach((f) => f());
  }, []);
  return n;
}
