/**
 * `serve`'s LAN-service flags (issue 12): `--lan-services`, `--sntp-port`, `--dns-port`,
 * `--dns-names`, `--dns-upstream`, `--lan-address`. Checked by the same schema as `PUT /api/v2/lan`;
 * the flags given win over `<dataDir>/settings.json` for this run.
 */
import type { LanSettings } from '../config';
import { LanSettingsPatchSchema } from '../../shared/lan-schemas';
import { settingsFromPatch } from '../lan/lan-services';
import { firstProblem } from '../validate';
import { CliError } from './cli-errors';

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
  const port = (text: string, flag: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new CliError(`invalid ${flag} '${text}': use 1-65535`);
    }
    return n;
  };
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
    throw new CliError(`invalid ${flag}: ${problem}`);
  }
  return {
    ...settingsFromPatch(patch),
    ...(f.lanServices === true && { enabled: true }),
    ...(f.sntpPort !== undefined && { sntpPort: port(f.sntpPort, '--sntp-port') }),
    ...(f.dnsPort !== undefined && { dnsPort: port(f.dnsPort, '--dns-port') }),
  };
}
