/**
 * The notification bus (PROTOCOL.md 7): one publish, many subscribers, optionally routed by
 * device id. It is a small publish/subscribe interface on purpose (DESIGN.md "Scaling past one
 * machine"): a multi-hub deployment can put NATS or Redis behind the same two methods.
 */
import type { Notification } from '../../shared/types';

/** A published notification with its JSON text computed at most once for all socket subscribers. */
export interface Published {
  readonly n: Notification;
  readonly text: string;
}

export type Subscriber = (p: Published) => void;

export interface SubscribeOptions {
  /** Only this device's notifications. */
  deviceId?: string;
}

export class NotificationBus {
  private readonly all = new Set<Subscriber>();
  private readonly byDevice = new Map<string, Set<Subscriber>>();
  published = 0;

  publish(n: Notification): void {
    this.published++;
    let text: string | undefined;
    const p: Published = {
      n,
      get text() {
        return (text ??= JSON.stringify(n));
      },
    };
    for (const s of this.all) this.deliver(s, p);
    const scoped = this.byDevice.get(n.id);
    if (scoped) for (const s of scoped) this.deliver(s, p);
  }

  subscribe(s: Subscriber, opts: SubscribeOptions = {}): () => void {
    if (opts.deviceId === undefined) {
      this.all.add(s);
      return () => void this.all.delete(s);
    }
    const id = opts.deviceId;
    let set = this.byDevice.get(id);
    if (!set) this.byDevice.set(id, (set = new Set()));
    set.add(s);
    return () => {
      set.delete(s);
      if (set.size === 0) this.byDevice.delete(id);
    };
  }

  get subscriberCount(): number {
    let n = this.all.size;
    for (const set of this.byDevice.values()) n += set.size;
    return n;
  }

  private deliver(s: Subscriber, p: Published): void {
    try {
      s(p);
    } catch {
      // A faulty subscriber must not stop delivery to the others; subscribers log their own errors.
    }
  }
}
