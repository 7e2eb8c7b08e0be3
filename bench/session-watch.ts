/**
 * Watches devices finish their session steps (PROTOCOL.md 1) from the outside, through the
 * notification stream: `online` marks step 1, and the `updated` notification whose device object
 * carries `shadow.state.reported.ota` marks step 3 (the Sys.GetInfo result committed). Fresh
 * devices have no delta and no spool, so steps 4-5 add nothing after that.
 */
import Type from 'typebox';
import { isValid } from '../src/main/validate';
import {
  notificationName,
  openNotifyStream,
  parseNotification,
  type NotifyStream,
} from './notify-stream';

const WithOta = Type.Object({
  shadow: Type.Object({
    state: Type.Object({
      reported: Type.Object({ ota: Type.Record(Type.String(), Type.Unknown()) }),
    }),
  }),
});

export interface SessionProgress {
  online: number;
  ready: number;
  /** `offline` notifications of expected devices: sessions lost or replaced during the run. */
  offlineEvents: number;
  /** performance.now() when the last expected device went online / became ready; null until then. */
  allOnlineAt: number | null;
  allReadyAt: number | null;
}

export class SessionWatch {
  private readonly online = new Set<string>();
  private readonly ready = new Set<string>();
  private allOnlineAt: number | null = null;
  private offlineEvents = 0;
  private allReadyAt: number | null = null;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly expected: ReadonlySet<string>,
    private stream: NotifyStream | null,
  ) {}

  static async open(wsBase: string, key: string, ids: Iterable<string>): Promise<SessionWatch> {
    const watch = new SessionWatch(new Set(ids), null);
    watch.stream = await openNotifyStream(wsBase, key, (text) => watch.onText(text));
    return watch;
  }

  progress(): SessionProgress {
    return {
      online: this.online.size,
      ready: this.ready.size,
      offlineEvents: this.offlineEvents,
      allOnlineAt: this.allOnlineAt,
      allReadyAt: this.allReadyAt,
    };
  }

  /**
   * Resolves when every expected device is ready; rejects after `timeoutMs` or when the hub
   * closes the stream (e.g. it dropped us as a slow subscriber: then counts would be wrong).
   */
  async allReady(timeoutMs: number): Promise<void> {
    const stream = this.stream;
    if (stream === null) throw new Error('session watch not open');
    if (this.allReadyAt !== null) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        stream.closed.then((code) => {
          throw new Error(`notification stream closed by the hub (code ${code})`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const p = this.progress();
            reject(
              new Error(
                `only ${p.online} online and ${p.ready} ready of ${this.expected.size} after ${timeoutMs} ms`,
              ),
            );
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.stream?.close();
  }

  /**
   * Cheap on purpose: a storm of 10,000 devices publishes some 40,000 notifications in seconds,
   * and a watcher that parses all of them falls behind and is dropped by the hub as a slow
   * subscriber (PROTOCOL.md 7). Only frames that can change a count are parsed.
   */
  private onText(text: string): void {
    const head = HEAD.exec(text);
    const name = head?.[1] ?? notificationName(text);
    if (name !== 'online' && name !== 'offline' && name !== 'updated') return;
    const id = head?.[2];
    if (id !== undefined && !this.expected.has(id)) return;
    if (name === 'online') {
      if (id !== undefined && this.online.has(id)) return;
      const n = parseNotification(text);
      if (n && this.expected.has(n.id) && !this.online.has(n.id)) {
        this.online.add(n.id);
        if (this.online.size === this.expected.size) this.allOnlineAt = performance.now();
      }
    } else if (name === 'offline') {
      const n = parseNotification(text);
      if (n && this.expected.has(n.id)) this.offlineEvents++;
    } else {
      // An `ota` key appears unescaped only as a key: frames without one cannot mark readiness.
      if ((id !== undefined && this.ready.has(id)) || !text.includes('"ota":{')) return;
      const n = parseNotification(text);
      if (!n || !this.expected.has(n.id) || this.ready.has(n.id)) return;
      if (!isValid(WithOta, n.data)) return;
      this.ready.add(n.id);
      if (this.ready.size === this.expected.size) {
        this.allReadyAt = performance.now();
        for (const w of this.waiters) w();
        this.waiters = [];
      }
    }
  }
}

/** `{"name":"<name>","id":"<id>"`, the way the hub serializes notifications (no escapes). */
const HEAD = /^\{"name":"([^"\\]*)","id":"([^"\\]*)"/;
