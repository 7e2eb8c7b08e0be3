/**
 * The device method `HTTP.Request {"url","method","body","headers"}` (PROTOCOL.md 2): the hub
 * makes the request for the device and hands back `{"status","headers","body"}` (plus
 * `"encoding":"base64"` when the body is not UTF-8).
 *
 * Where the result goes: the reply when the frame had an id, and always a second
 * `rpc.out.HTTP.Request` notification `{"request":{"url","method"},"response":{..}}` or
 * `{"request":{..},"error":{"code","message"}}` (stored in the notification log like every
 * notification; its body cut to `maxHttpNotifyBodyChars` with `"truncated":true`), plus a hub
 * log line. The session already published the first
 * `rpc.out.HTTP.Request` with the params, as for every device method; the `request` /
 * `response|error` keys tell the result apart from it.
 *
 * Order of refusals: disabled (4037), invalid params (4002/413), per-device rate (4297),
 * hub-wide in-flight cap (4298), then destination (4036) and the request itself (5027, 5028, 5047).
 */
import { networkInterfaces } from 'node:os';
import type { LookupAddress } from 'node:dns';
import { HubError } from '../../shared/errors';
import type { Json } from '../../shared/types';
import type { DataLimits } from '../config';
import type { NotificationBus } from '../events/notification-bus';
import type { DestinationPolicy } from './http-request-guard';
import { HttpRequestLimiter } from './http-request-limiter';
import { normalizeHttpParams } from './http-request-schema';
import { performHttpRequest, type HttpResponseResult } from './http-request';

export interface HttpRequestMethodDeps {
  limits: DataLimits;
  bus: NotificationBus;
  /** Ports the hub listens on right now (HTTP, TLS): never a destination. */
  ownPorts: () => number[];
  log: { info(obj: object, msg: string): void };
  /** Name resolution override for tests; the OS resolver otherwise. */
  resolve?: (host: string) => Promise<LookupAddress[]>;
  now?: () => number;
}

/** Handler shape of device-methods.ts, without importing the gateway (layering). */
export type HttpRequestHandler = (
  session: { deviceId: string },
  params: Json | undefined,
) => Promise<HttpResponseResult>;

/** This machine's addresses, so `<its LAN address>:<hub port>` counts as the hub itself. */
function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

export function createHttpRequestMethod(deps: HttpRequestMethodDeps): HttpRequestHandler {
  const { limits, bus, log } = deps;
  const now = deps.now ?? (() => performance.now());
  const limiter = new HttpRequestLimiter({
    requestsPerMinute: limits.httpRequestsPerMinute,
    burst: limits.httpBurst,
    maxInFlight: limits.httpMaxInFlight,
  });
  const policy = (): DestinationPolicy => ({
    allowLoopback: limits.httpAllowLoopback,
    allowLinkLocal: limits.httpAllowLinkLocal,
    allowPrivate: limits.httpAllowPrivate,
    ownPorts: deps.ownPorts(),
    localAddresses: localAddresses(),
  });

  return async (session, params) => {
    const device = session.deviceId;
    const asked = requestSummary(params);
    const started = Date.now();
    const publish = (
      outcome: { response: HttpResponseResult & { truncated?: true } } | { error: Json },
    ): void => {
      bus.publish({
        name: 'rpc.out.HTTP.Request',
        id: device,
        data: { request: asked, ...outcome } as unknown as Json,
      });
    };
    try {
      if (!limits.httpEnabled) throw new HubError('http_disabled');
      const req = normalizeHttpParams(params, limits.maxHttpRequestBodyBytes);
      if (!limiter.take(device, now())) {
        throw new HubError(
          'http_rate_limited',
          `HTTP.Request: device over ${limits.httpRequestsPerMinute}/min (burst ${limits.httpBurst})`,
        );
      }
      if (!limiter.acquire()) {
        throw new HubError(
          'http_busy',
          `HTTP.Request: ${limits.httpMaxInFlight} requests already in flight on the hub`,
        );
      }
      let response: HttpResponseResult;
      try {
        response = await performHttpRequest(req, {
          timeoutMs: limits.httpTimeoutMs,
          maxResponseBytes: limits.maxHttpResponseBytes,
          maxRedirects: limits.httpMaxRedirects,
          policy,
          ...(deps.resolve !== undefined && { resolve: deps.resolve }),
        });
      } finally {
        limiter.release();
      }
      log.info(
        { device, ...asked, status: response.status, ms: Date.now() - started },
        'HTTP.Request done',
      );
      publish({ response: forNotification(response, limits.maxHttpNotifyBodyChars) });
      return response;
    } catch (err) {
      const e =
        err instanceof HubError
          ? err
          : new HubError('internal', err instanceof Error ? err.message : String(err));
      log.info(
        { device, ...asked, code: e.code, err: e.message, ms: Date.now() - started },
        'HTTP.Request failed',
      );
      publish({ error: { code: e.code, message: e.message } });
      throw e;
    }
  };
}

/** `{"url","method"}` of the params as sent, for notifications and logs (headers may hold secrets). */
function requestSummary(params: Json | undefined): { url: string | null; method: string } {
  const p = params !== null && typeof params === 'object' && !Array.isArray(params) ? params : {};
  const url = typeof p['url'] === 'string' ? p['url'].slice(0, 2048) : null;
  const method = typeof p['method'] === 'string' ? p['method'].slice(0, 16).toUpperCase() : 'GET';
  return { url, method };
}

/** The response as notified and stored: the body cut to `maxChars` (the reply keeps it whole). */
function forNotification(
  r: HttpResponseResult,
  maxChars: number,
): HttpResponseResult & { truncated?: true } {
  if (r.body.length <= maxChars) return r;
  return { ...r, body: r.body.slice(0, maxChars), truncated: true };
}
