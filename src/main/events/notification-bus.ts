/**
 * The notification bus (PROTOCOL.md 7): one publish, many subscribers, optionally routed by
 * device id. It is a small publish/subscribe interface on purpose (DESIGN.md "Scaling past one
 * machine"): a multi-hub deployment can put NATS or Redis behind the same two methods.
 */
import type { Notification } from '../../shared/types';
import { attachedJson } from './encoded-json';

/**
 * A published notification with its JSON text (and its data's, for the log) computed at most once
 * for all subscribers, and not at all when the publisher attached the data's text already
 * (encoded-json.ts).
 */
export interface Published {
  readonly n: Notification;
  readonly text: string;
  /** `JSON.stringify(n.data ?? null)`. */
  readonly dataJson: string;
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
    let dataJson = attachedJson(n.data);
    const attached = dataJson !== undefined;
    const p: Published = {
      n,
      get text() {
        // Same text as JSON.stringify(n) for a {name, id, data} notification, without encoding
        // the data again.
        return (text ??= attached
          ? `{"name":${JSON.stringify(n.name)},"id":${JSON.stringify(n.id)},"data":${dataJson}}`
          : JSON.stringify(n));
      },
      get dataJson() {
        return (dataJson ??= JSON.stringify(n.data ?? null));
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
