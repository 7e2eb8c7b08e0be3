/**
 * `serve`'s LAN-service flags (issue 12): `--lan-services`, `--sntp-port`, `--dns-port`,
 * `--dns-names`, `--dns-upstream`, `--lan-address`. Checked by the same schema as `PUT /api/v2/lan`;
 * the flags given win over `<dataDir>/settings.json` for this run.
 */
import type { LanSettings } from '../config';
import { LanSettingsPatchSchema } from '../../shared/lan-schemas';
import { settingsFromPatch } from '../lan/lan-services';
import { firstProblem } from '../validate';
import { HubError } from '../../shared/errors';
import { parsePortOption } from './int-option';

export interface LanFlags {
  lanServices?: boolean;
  sntpPort?: string;
  dnsPort?: string;
  dnsNames?: string;
  dnsUpstream?: string;
  lanAddress?: string;
}

/** The flags as config settings, only those given. Port 0 (any free port) is allowed here. */
export function parseLanFlags(f: LanFlags): Partial<LanSettings> {
  const patch = {
    ...(f.dnsNames !== undefined && {
      names: f.dnsNames
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    }),
    // `off` or '' clears a saved upstream or address for this run.
    ...(f.dnsUpstream !== undefined && {
      upstream: f.dnsUpstream === '' || f.dnsUpstream === 'off' ? null : f.dnsUpstream,
    }),
    ...(f.lanAddress !== undefined && {
      lan_address: f.lanAddress === '' || f.lanAddress === 'auto' ? null : f.lanAddress,
    }),
  };
  const problem = firstProblem(LanSettingsPatchSchema, patch);
  if (problem !== null) {
    const flag = problem.startsWith('/names')
      ? '--dns-names (DNS names, `*.` for subdomains)'
      : problem.startsWith('/upstream')
        ? '--dns-upstream (ip[:port])'
        : '--lan-address (an IPv4 address)';
    // Coded like PUT /api/v2/lan refusing the same value (the schema's words, code 4002).
    throw new HubError('validation_failed', `invalid ${flag}: ${problem}`);
  }
  return {
    ...settingsFromPatch(patch),
    ...(f.lanServices === true && { enabled: true }),
    ...(f.sntpPort !== undefined && { sntpPort: parsePortOption(f.sntpPort, '--sntp-port') }),
    ...(f.dnsPort !== undefined && { dnsPort: parsePortOption(f.dnsPort, '--dns-port') }),
  };
}
