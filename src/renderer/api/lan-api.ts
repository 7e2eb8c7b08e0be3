/**
 * The LAN services' client (issue 12): `GET /api/v2/lan` (status) and `PUT /api/v2/lan` (settings,
 * applied at once). Like the other api/ modules it is the only place the section does I/O;
 * answers are checked against the schema below, refusals are ApiErrors with the catalog code.
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import type { LanSettingsPatch, LanStatus } from '../../shared/lan';
import { ApiError } from './api-error';
import { hubJsonCaller, type HubClientOptions } from './hub-answer';

/** Applying restarts two UDP sockets: quick, but leave room for a busy hub. */
export const LAN_TIMEOUT_MS = 15_000;

const Problem = Type.Object({ code: Type.Number(), message: Type.String(), fix: Type.String() });
const Counts = Type.Optional(Type.Record(Type.String(), Type.Number()));
const Responder = {
  port: Type.Number(),
  listening: Type.Boolean(),
  problem: Type.Optional(Problem),
  answered: Type.Number(),
  dropped: Counts,
};

export const LanStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  lan_address: Type.Union([Type.String(), Type.Null()]),
  addresses: Type.Array(Type.String()),
  sntp: Type.Object(Responder),
  dns: Type.Object({
    ...Responder,
    names: Type.Array(Type.String()),
    upstream: Type.Union([Type.String(), Type.Null()]),
    refused: Type.Optional(Type.Number()),
    forwarded: Type.Optional(Type.Number()),
    failed: Type.Optional(Type.Number()),
  }),
});

export interface LanApi {
  status(): Promise<LanStatus>;
  apply(patch: LanSettingsPatch): Promise<LanStatus>;
}

export type LanApiOptions = HubClientOptions;

export function createLanApi(o: LanApiOptions): LanApi {
  const request = hubJsonCaller(o, LAN_TIMEOUT_MS, 'the hub did not answer in time');

  async function call(method: 'GET' | 'PUT', body?: LanSettingsPatch): Promise<LanStatus> {
    const parsed = await request(method, '/lan', body);
    if (!Value.Check(LanStatusSchema, parsed)) {
      throw new ApiError(0, 200, 'the hub sent an unexpected LAN status');
    }
    return parsed;
  }

  return {
    status: () => call('GET'),
    apply: (patch) => call('PUT', patch),
  };
}
