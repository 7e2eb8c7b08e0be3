/**
 * The management notification stream (PROTOCOL.md 7) with reconnect. Frames are validated, then
 * delivered in batches (one store update per batch, not per frame: 10,000 devices coming online
 * after a hub restart must not mean 10,000 renders). On every (re)open the caller resyncs from
 * REST, because notifications sent while the socket was down are gone.
 */
import type { Notification } from '../../shared/types';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from '../lib/backoff';
import { readNotification } from './schemas';

/** The browser WebSocket surface used here (the `ws` package offers the same in tests). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number, reason?: string): void;
  /** Only sockets that take input use it (the serial monitor); the notify stream only listens. */
  send?(data: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

export type NotifyStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'open'; since: number }
  | { state: 'reconnecting'; attempt: number; retryAt: number }
  | { state: 'closed' };

export interface NotifyStreamOptions {
  url: string;
  createSocket: SocketFactory;
  onBatch(batch: Notification[]): void;
  onStatus(status: NotifyStatus): void;
  /** Called on every open; `reconnect` is false only for the first one. */
  onOpen?(info: { reconnect: boolean }): void;
  /** Frames that were not valid notifications (counted for the status tooltip). */
  onInvalid?(count: number): void;
  batchMs?: number;
  backoff?: BackoffOptions;
  /** A connection that stayed open this long resets the backoff. */
  stableMs?: number;
  random?: () => number;
  now?: () => number;
}

export interface NotifyStream {
  /** Skip the remaining backoff wait (the browser came back online, or the user asked). */
  retryNow(): void;
  close(): void;
}

export const DEFAULT_BATCH_MS = 50;
export const DEFAULT_STABLE_MS = 10_000;

export function openNotifyStream(options: NotifyStreamOptions): NotifyStream {
  const batchMs = options.batchMs ?? DEFAULT_BATCH_MS;
  const stableMs = options.stableMs ?? DEFAULT_STABLE_MS;
  const now = options.now ?? Date.now;
  let socket: SocketLike | null = null;
  let closed = false;
  let everOpened = false;
  let openedAt = 0;
  let attempt = 0;
  let invalid = 0;
  let queue: Notification[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  const flush = (): void => {
    if (flushTimer !== null) clearTimeout(flushTimer);
    flushTimer = null;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    options.onBatch(batch);
  };

  const scheduleRetry = (): void => {
    if (closed) return;
    attempt += 1;
    const delay = backoffDelay(attempt, options.backoff ?? DEFAULT_BACKOFF, options.random);
    options.onStatus({ state: 'reconnecting', attempt, retryAt: now() + delay });
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, delay);
  };

  const onFrame = (data: unknown): void => {
    let n: Notification | null = null;
    if (typeof data === 'string') {
      try {
        n = readNotification(JSON.parse(data));
      } catch {
        n = null;
      }
    }
    if (!n) {
      invalid += 1;
      options.onInvalid?.(invalid);
      return;
    }
    queue.push(n);
    flushTimer ??= setTimeout(flush, batchMs);
  };

  function connect(): void {
    if (closed) return;
    options.onStatus({ state: 'connecting', attempt });
    let s: SocketLike;
    try {
      s = options.createSocket(options.url);
    } catch {
      scheduleRetry();
      return;
    }
    socket = s;
    s.onopen = () => {
      if (socket !== s) return;
      openedAt = now();
      const reconnect = everOpened;
      everOpened = true;
      options.onStatus({ state: 'open', since: openedAt });
      options.onOpen?.({ reconnect });
    };
    s.onmessage = (ev) => {
      if (socket === s) onFrame(ev.data);
    };
    s.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      flush();
      if (openedAt !== 0 && now() - openedAt >= stableMs) attempt = 0;
      openedAt = 0;
      scheduleRetry();
    };
  }

  connect();

  return {
    retryNow() {
      if (closed || socket !== null) return;
      if (retryTimer !== null) clearTimeout(retryTimer);
      retryTimer = null;
      connect();
    },
    close() {
      if (closed) return;
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      flush();
      const s = socket;
      socket = null;
      s?.close(1000, 'dashboard closed');
      options.onStatus({ state: 'closed' });
    },
  };
}
