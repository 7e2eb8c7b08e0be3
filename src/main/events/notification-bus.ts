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
  /**
   * `text` as UTF-8, made once for every subscriber: a socket sent the string would encode its
   * own copy (issue 11: 10 notify streams made 10 copies of every `updated` device object).
   */
  readonly bytes: Buffer;
}

/**
 * A class with its getters on the prototype rather than an object literal with getters: a literal
 * makes new closures and a new shape per notification, about 1 µs each (issue 11, once per
 * publish on the shadow path).
 */
class PublishedNotification implements Published {
  private textCache: string | undefined;
  private bytesCache: Buffer | undefined;
  /** Whether the publisher gave the data's text: the notification is then {name, id, data}. */
  private readonly attached: boolean;

  constructor(
    readonly n: Notification,
    private dataJsonCache: string | undefined,
  ) {
    this.attached = dataJsonCache !== undefined;
  }

  get text(): string {
    // Same text as JSON.stringify(n) for a {name, id, data} notification, without encoding the
    // data again: the log needs the data's text anyway (an `updated` device object encoded twice
    // per shadow write was 2.4% of the hub's time, issue 11).
    return (this.textCache ??=
      this.attached || isNameIdData(this.n)
        ? `{"name":${JSON.stringify(this.n.name)},"id":${JSON.stringify(this.n.id)},"data":${this.dataJson}}`
        : JSON.stringify(this.n));
  }

  get dataJson(): string {
    return (this.dataJsonCache ??= JSON.stringify(this.n.data ?? null));
  }

  get bytes(): Buffer {
    return (this.bytesCache ??= Buffer.from(this.text, 'utf8'));
  }
}

export type Subscriber = (p: Published) => void;

/** Whether JSON.stringify(n) is `{"name":..,"id":..,"data":<data>}`: those keys, in that order. */
function isNameIdData(n: Notification): boolean {
  if (n.data === undefined) return false;
  const keys = Object.keys(n);
  return keys.length === 3 && keys[0] === 'name' && keys[1] === 'id' && keys[2] === 'data';
}

export interface SubscribeOptions {
  /** Only this device's notifications. */
  deviceId?: string;
}

export class NotificationBus {
  private readonly all = new Set<Subscriber>();
  private readonly byDevice = new Map<string, Set<Subscriber>>();
  published = 0;

  /**
   * `knownDataJson`: exactly `JSON.stringify(n.data)`, when the publisher has it (the `updated`
   * device, notified-device-json.ts); like text attached to the data, cheaper than a WeakMap entry.
   */
  publish(n: Notification, knownDataJson?: string): void {
    this.published++;
    const p = new PublishedNotification(n, knownDataJson ?? attachedJson(n.data));
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
