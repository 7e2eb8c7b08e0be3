/**
 * The Network page's client (issue 12): the doctor's checks (`GET /api/v2/doctor`) and the hubs
 * seen on the LAN by mDNS (`GET /api/v2/hubs`). Like the other api/ modules it is the only place
 * the page does I/O; answers are checked against the schemas below before the store sees them,
 * and refusals are ApiErrors with the hub's catalog code.
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import type { DoctorReport, HubsList } from '../../shared/lan';
import { ApiError } from './api-error';
import { hubJsonCaller, type HubClientOptions } from './hub-answer';

/** The doctor's probes wait at most 1.5 s each, in parallel: this is a generous bound. */
export const NETWORK_TIMEOUT_MS = 20_000;

const CheckSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  state: Type.Union([
    Type.Literal('ok'),
    Type.Literal('warn'),
    Type.Literal('fail'),
    Type.Literal('skip'),
  ]),
  detail: Type.String(),
  fix: Type.Optional(Type.String()),
});

export const DoctorReportSchema = Type.Object({
  checked_at: Type.Number(),
  checks: Type.Array(CheckSchema),
});

const SeenHubSchema = Type.Object({
  name: Type.String(),
  host: Type.String(),
  addresses: Type.Array(Type.String()),
  device_url: Type.String(),
  dashboard_url: Type.String(),
  version: Type.String(),
  id: Type.String(),
  device_url_tls: Type.Optional(Type.String()),
  self: Type.Boolean(),
  last_seen: Type.Number(),
});

export const HubsListSchema = Type.Object({
  id: Type.String(),
  mdns: Type.Object({
    enabled: Type.Boolean(),
    advertising: Type.Boolean(),
    host: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    addresses: Type.Array(Type.String()),
    problem: Type.Optional(Type.String()),
  }),
  hubs: Type.Array(SeenHubSchema),
});

export interface NetworkApi {
  doctor(): Promise<DoctorReport>;
  /** `waitMs`: how long the hub listens for answers (0: the hubs seen so far, at once). */
  hubs(waitMs?: number): Promise<HubsList>;
}

export type NetworkApiOptions = HubClientOptions;

export function createNetworkApi(o: NetworkApiOptions): NetworkApi {
  const request = hubJsonCaller(o, NETWORK_TIMEOUT_MS);
  const get = (path: string): Promise<unknown> => request('GET', path);

  return {
    async doctor() {
      const v = await get('/doctor');
      if (!Value.Check(DoctorReportSchema, v)) {
        throw new ApiError(0, 200, 'the hub sent an unexpected doctor report');
      }
      return v;
    },
    async hubs(waitMs) {
      const v = await get(`/hubs${waitMs !== undefined ? `?wait_ms=${waitMs}` : ''}`);
      if (!Value.Check(HubsListSchema, v)) {
        throw new ApiError(0, 200, 'the hub sent an unexpected list of hubs');
      }
      return v;
    },
  };
}
