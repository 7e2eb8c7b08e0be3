/**
 * TypeBox schemas of the LAN settings (issue 12): `PUT /api/v2/lan` bodies and the `lan` object of
 * `<dataDir>/settings.json`. The schema is the type (DESIGN.md example 4); src/shared/lan.ts
 * `LanSettingsPatch` is the same shape, kept in step by test/unit/lan-schemas.test.ts.
 */
import Type from 'typebox';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4_PATTERN = `^${OCTET}(\\.${OCTET}){3}$`;
const LABEL = '[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
/** A DNS name (labels of 1-63 letters, digits, `-`, `_`), optionally `*.` for every subdomain. */
export const DNS_NAME_PATTERN = `^(\\*\\.)?(${LABEL}\\.)*${LABEL}\\.?$`;

/** `ip[:port]` split: the port is null without one. */
export function splitUpstream(text: string): { host: string; port: number | null } {
  const m = /^(.*):(\d+)$/.exec(text);
  return m?.[1] !== undefined && m[2] !== undefined
    ? { host: m[1], port: Number(m[2]) }
    : { host: text, port: null };
}

/**
 * `ip[:port]`. The range is a refinement, not the pattern, so every path that reads the schema
 * (PUT /api/v2/lan, settings.json, `serve --dns-upstream`) refuses `:99999` with the same words.
 */
const Upstream = Type.Refine(
  Type.String({ pattern: `^${OCTET}(\\.${OCTET}){3}(:[0-9]{1,5})?$` }),
  (text: string) => {
    const { port } = splitUpstream(text);
    return port === null || (port >= 1 && port <= 65535);
  },
  () => 'the port must be 1-65535',
);

export const LanSettingsPatchSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    sntp_port: Type.Optional(Port),
    dns_port: Type.Optional(Port),
    names: Type.Optional(
      Type.Array(Type.String({ maxLength: 253, pattern: DNS_NAME_PATTERN }), { maxItems: 64 }),
    ),
    /** `ip[:port]` of an upstream resolver (an IPv4 literal: resolvers are named by address). */
    upstream: Type.Optional(Type.Union([Upstream, Type.Null()])),
    lan_address: Type.Optional(Type.Union([Type.String({ pattern: IPV4_PATTERN }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type LanSettingsPatchBody = Type.Static<typeof LanSettingsPatchSchema>;
