import type { UpChannel } from '../../../schemas/device-protocol/topics.ts';
import type { DeviceMessageHandler, GroupSubscription, Unlisten } from './device-link.ts';

/** A set of listeners whose registration returns its own removal. */
export class Listeners<A extends unknown[]> {
  private set = new Set<(...a: A) => void>();
  add(fn: (...a: A) => void): Unlisten {
    this.set.add(fn);
    return () => void this.set.delete(fn);
  }
  emit(...a: A): void {
    for (const fn of this.set) fn(...a);
  }
}

/**
 * The registration half of a DeviceLink, the same whichever broker runs: one handler per channel and the session
 * and subscription listeners. Each link feeds them from its broker.
 */
export abstract class LinkEvents {
  protected handlers = new Map<UpChannel, DeviceMessageHandler>();
  protected ups = new Listeners<[string]>();
  protected downs = new Listeners<[string]>();
  protected groupSubs = new Listeners<[string, GroupSubscription[]]>();

  onMessage(channel: UpChannel, handler: DeviceMessageHandler): Unlisten {
    this.handlers.set(channel, handler);
    return () => void (this.handlers.get(channel) === handler && this.handlers.delete(channel));
  }

  onSessionUp(listener: (clusterId: string) => void): Unlisten {
    return this.ups.add(listener);
  }

  onSessionDown(listener: (clusterId: string) => void): Unlisten {
    return this.downs.add(listener);
  }

  onGroupSubscribed(listener: (clusterId: string, subs: GroupSubscription[]) => void): Unlisten {
    return this.groupSubs.add(listener);
  }
}
