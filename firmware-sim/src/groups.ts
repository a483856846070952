/**
 * Group subscriptions: `cmd` and (protocol v1.1) `play` for every group of the configuration. They belong to the
 * connection (clean session), the configuration that names them outlives it: so they are reconciled against the
 * held configuration on every config message, changed or not. A group counts as granted when its `cmd` topic is;
 * a refused `play` topic is reported separately (a v1.0 server would refuse it).
 */
import { GROUP_CHANNELS, groupTopic } from '../../schemas/device-protocol/index.ts';
import type { Session } from './session.ts';

export class GroupSubscriptions {
  /** Asked for on this connection; a refused group stays here so each config message does not ask again. */
  private requested = new Set<string>();
  /** Granted by the broker. */
  private ok = new Set<string>();

  constructor(
    private readonly session: () => Session,
    private readonly refused: (group: string, channel: string) => void,
    private readonly settled: (granted: string[]) => void,
  ) {}

  get granted(): string[] {
    return [...this.ok];
  }

  /** The connection is gone; so are its subscriptions. */
  reset(): void {
    this.requested.clear();
    this.ok.clear();
  }

  reconcile(groups: string[]): void {
    const want = new Set(groups);
    const add = [...want].filter((g) => !this.requested.has(g));
    const remove = [...this.requested].filter((g) => !want.has(g));
    if (!add.length && !remove.length) return;
    for (const g of add) this.requested.add(g);
    for (const g of remove) {
      this.requested.delete(g);
      this.ok.delete(g);
    }
    const s = this.session();
    const gen = s.gen;
    let pending = (add.length ? 1 : 0) + (remove.length ? 1 : 0);
    const settle = () => --pending === 0 && gen === s.gen && this.settled(this.granted);
    const topics = (groups: string[]) => groups.flatMap((g) => GROUP_CHANNELS.map((ch) => groupTopic(g, ch)));
    if (remove.length) s.unsubscribe(topics(remove), settle);
    if (add.length) {
      s.subscribe(topics(add), (granted) => {
        const n = GROUP_CHANNELS.length;
        add.forEach((g, i) => {
          GROUP_CHANNELS.forEach((ch, k) => {
            const ok = !!granted && granted[i * n + k] !== 128;
            if (ch === 'cmd') {
              if (ok) {
                if (this.requested.has(g)) this.ok.add(g);
              } else this.refused(g, ch);
            } else if (!ok) this.refused(g, ch);
          });
        });
        settle();
      });
    }
  }
}
