/**
 * What a user reads when a LAN responder cannot bind (issue 12 "say exactly what to do"): the
 * catalog code, a one-line message and the commands that fix it. Pure: the caller passes the
 * binary to grant the capability to (process.execPath: node for `fleetbench serve`, the app's
 * own binary in the desktop app).
 */
import { ERRORS } from '../../shared/errors';
import type { ServiceProblem } from '../../shared/lan';

export type LanService = 'sntp' | 'dns';

const FLAG: Record<LanService, string> = { sntp: '--sntp-port', dns: '--dns-port' };
const NAME: Record<LanService, string> = { sntp: 'SNTP', dns: 'DNS' };
/** What usually holds the port already on a Linux box. */
const USUAL_HOLDER: Record<LanService, string> = {
  sntp: 'chronyd, ntpd or systemd-timesyncd',
  dns: 'systemd-resolved, dnsmasq or another DNS server',
};

/** The high port suggested instead of a privileged one: 123 -> 1123, 53 -> 1053. */
export function highPortFor(port: number): number {
  return port < 1024 ? port + 1000 : port;
}

/**
 * The exact redirect rules from `port` to `high` for devices on the LAN: prose lines, and each
 * command on its own line indented by two spaces (the dashboard shows those with a Copy button).
 */
export function redirectLines(port: number, high: number): string[] {
  return [
    `  sudo iptables -t nat -A PREROUTING -p udp --dport ${port} -j REDIRECT --to-ports ${high}`,
    `or with nftables:`,
    `  sudo nft add table ip nat`,
    `  sudo nft 'add chain ip nat prerouting { type nat hook prerouting priority dstnat; }'`,
    `  sudo nft add rule ip nat prerouting udp dport ${port} redirect to :${high}`,
  ];
}

export function bindProblem(
  service: LanService,
  host: string,
  port: number,
  errCode: string | undefined,
  execPath: string,
): ServiceProblem {
  const name = NAME[service];
  const high = highPortFor(port);
  const highPorts = `fleetbench serve --lan-services --sntp-port ${highPortFor(123)} --dns-port ${highPortFor(53)}`;
  if (errCode === 'EACCES' || errCode === 'EPERM') {
    return {
      code: ERRORS.lan_port_denied.code,
      message: `${name} cannot listen on UDP ${host}:${port}: ports below 1024 need the CAP_NET_BIND_SERVICE capability`,
      fix: [
        `Either grant it to the program running the hub, then restart the hub:`,
        `  sudo setcap 'cap_net_bind_service=+ep' ${shellQuote(execPath)}`,
        `or use high ports (${highPorts}, or the ports in the dashboard's Settings)`,
        `and redirect the standard port to it on this machine:`,
        ...redirectLines(port, high),
      ].join('\n'),
    };
  }
  if (errCode === 'EADDRINUSE') {
    const other = high === port ? port + 1 : high;
    return {
      code: ERRORS.lan_port_in_use.code,
      message: `${name} cannot listen on UDP ${host}:${port}: another program uses the port`,
      fix: [
        `See which one (often ${USUAL_HOLDER[service]}):`,
        `  sudo ss -ulpn 'sport = :${port}'`,
        `Stop it, or give the hub another port (${FLAG[service]} ${other}) and redirect ${port} to it:`,
        ...redirectLines(port, other),
      ].join('\n'),
    };
  }
  return {
    code: ERRORS.lan_bind_failed.code,
    message: `${name} cannot listen on UDP ${host}:${port}: ${errCode ?? 'unknown error'}`,
    fix: `Check that ${host} is an address of this machine (ip -4 addr), or start the hub with --host 0.0.0.0.`,
  };
}

function shellQuote(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
