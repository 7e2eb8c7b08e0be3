/**
 * Refuses a WebSocket upgrade before any upgrade happens (PROTOCOL.md 1: a bad password is HTTP
 * 401), with the catalog's status and the usual `{"error":{"code","message"}}` body. Every
 * WebSocket endpoint (devices, notifications, serial monitor) refuses through this one function.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HubError } from '../../shared/errors';

export function rejectUpgrade(
  socket: Duplex,
  err: HubError,
  headers: Readonly<Record<string, string>> = {},
): void {
  const body = JSON.stringify(err.toBody());
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${extra}Connection: close\r\n\r\n${body}`,
  );
}
