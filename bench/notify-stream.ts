/**
 * A subscriber of the management notification stream `/api/v2/notify` (PROTOCOL.md 7), as a
 * dashboard or script would open it. It hands over the raw text of each frame: benchmarks decide
 * which frames are worth parsing, because parsing all of them can cost more than the hub spends.
 */
import Type from 'typebox';
import WebSocket from 'ws';
import { isValid } from '../src/main/validate';

export interface NotifyStream {
  readonly ws: WebSocket;
  /** Resolves with the close code when the hub (or we) closed the stream. */
  readonly closed: Promise<number>;
  close(): Promise<void>;
}

export function openNotifyStream(
  wsBase: string,
  key: string,
  onText: (text: string, receivedAtMs: number) => void,
): Promise<NotifyStream> {
  const ws = new WebSocket(`${wsBase}/api/v2/notify`, {
    headers: { authorization: `Bearer ${key}` },
    perMessageDeflate: false,
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    onText(data.toString(), Date.now());
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined); // a reset after open shows up as 'close'
      resolve({
        ws,
        closed,
        async close() {
          if (ws.readyState === WebSocket.CLOSED) return;
          const timer = setTimeout(() => ws.terminate(), 2000);
          ws.close();
          await closed;
          clearTimeout(timer);
        },
      });
    });
    ws.once('error', reject);
  });
}

const NotificationFrame = Type.Object({
  name: Type.String(),
  id: Type.String(),
  data: Type.Unknown(),
});
export type NotificationFrame = Type.Static<typeof NotificationFrame>;

/** Parses and checks one frame; null for anything that is not a notification. */
export function parseNotification(text: string): NotificationFrame | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  return isValid(NotificationFrame, v) ? v : null;
}

/**
 * The frame's name, cheaply: the hub serializes `{"name":...` first (notification-bus.ts), so the
 * name is read without parsing the whole frame; any other layout falls back to a full parse.
 */
export function notificationName(text: string): string | null {
  if (text.startsWith('{"name":"')) {
    const end = text.indexOf('"', 9);
    if (end !== -1 && text.lastIndexOf('\\', end) < 9) return text.slice(9, end);
  }
  return parseNotification(text)?.name ?? null;
}
