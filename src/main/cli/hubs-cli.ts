/**
 * `fleetbench hubs`: the Fleetbench hubs advertised on the LAN by mDNS / DNS-SD (issue 12
 * "Discovery"). Needs no running hub and no key: it browses `_fleetbench._tcp` itself for
 * `--timeout` ms. The hub of `--data-dir` (this machine's, by default) is marked `self`.
 */
import type { Command } from 'commander';
import type { SeenHub } from '../../shared/lan';
import { CliError } from './cli-errors';
import { parseIntOption } from './int-option';
import { defaultDataDir } from './data-dir-option';

export const DEFAULT_HUBS_TIMEOUT_MS = 3000;
const MAX_HUBS_TIMEOUT_MS = 60_000;

/** One block per hub: what a person needs to point a browser or a device at it. */
export function formatHubs(hubs: SeenHub[]): string {
  if (hubs.length === 0) {
    return 'no hubs found (is the hub running with mDNS on, and is UDP 5353 allowed by the firewall?)\n';
  }
  return hubs
    .map((h) =>
      [
        `${h.name}${h.self ? '   (this data dir)' : ''}`,
        `  host:       ${h.host}   ${h.addresses.join(', ')}`,
        `  dashboard:  ${h.dashboard_url}`,
        `  device URL: ${h.device_url}`,
        ...(h.device_url_tls !== undefined ? [`  TLS device: ${h.device_url_tls}`] : []),
        `  version:    ${h.version}   id ${h.id}`,
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

export function registerHubsCommand(program: Command): void {
  program
    .command('hubs')
    .description('list the Fleetbench hubs advertised on the LAN by mDNS (this one marked)')
    .option('--timeout <ms>', 'how long to listen for answers', String(DEFAULT_HUBS_TIMEOUT_MS))
    .option('--json', 'print the hubs as a JSON array')
    .option('--data-dir <dir>', 'mark the hub of this data dir as self', defaultDataDir())
    .option('--mdns-port <port>', 'mDNS UDP port (5353; another only for tests)', '5353')
    .option('--interface <ip>', 'IPv4 address of the one interface to browse on')
    .action(
      async (o: {
        timeout: string;
        json?: boolean;
        dataDir: string;
        mdnsPort: string;
        interface?: string;
      }) => {
        const timeoutMs = parseIntOption(o.timeout, '--timeout', 100, MAX_HUBS_TIMEOUT_MS);
        const port = parseIntOption(o.mdnsPort, '--mdns-port', 1, 65535);
        const [{ browseHubs }, { readHubId }] = await Promise.all([
          import('../lan/hub-browser'),
          import('../lan/hub-id'),
        ]);
        let hubs: SeenHub[];
        try {
          hubs = await browseHubs({
            timeoutMs,
            port,
            interface: o.interface ?? null,
            selfId: readHubId(o.dataDir),
          });
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          throw new CliError(
            `cannot browse mDNS on UDP ${port} (${e.code ?? e.message}): another program holds the port exclusively`,
          );
        }
        process.stdout.write(o.json ? `${JSON.stringify(hubs, null, 2)}\n` : formatHubs(hubs));
      },
    );
}
