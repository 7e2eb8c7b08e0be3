/**
 * `fleetbench serve`: its options (each with an env variable) and the loop that keeps the hub up
 * until SIGINT/SIGTERM. Loaded only when `serve` runs (src/main/cli/command-table.ts).
 */
import type { Command } from 'commander';
import { defaultDataDir } from './data-dir-option';
import { SERVE_DEFAULTS, parseCount, parsePort, parseTlsPort, serve } from './serve-command';
import { parseLanFlags, type LanFlags } from './lan-flags';

const env = process.env;

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the hub: device gateway, REST API and dashboard')
    .option(
      '--host <host>',
      'interface to bind (env FLEETBENCH_HOST)',
      env['FLEETBENCH_HOST'] ?? SERVE_DEFAULTS.host,
    )
    .option(
      '--port <port>',
      'TCP port (env FLEETBENCH_PORT)',
      env['FLEETBENCH_PORT'] ?? String(SERVE_DEFAULTS.port),
    )
    .option(
      '--tls-port <port|off>',
      'https/wss port, or off (env FLEETBENCH_TLS_PORT)',
      env['FLEETBENCH_TLS_PORT'] ?? String(SERVE_DEFAULTS.tlsPort),
    )
    .option(
      '--tls-cert <file>',
      'PEM certificate to use instead of the local CA (env FLEETBENCH_TLS_CERT)',
      env['FLEETBENCH_TLS_CERT'],
    )
    .option(
      '--tls-key <file>',
      'PEM key of --tls-cert (env FLEETBENCH_TLS_KEY)',
      env['FLEETBENCH_TLS_KEY'],
    )
    .option('--data-dir <dir>', 'data directory (env FLEETBENCH_DATA_DIR)', defaultDataDir())
    .option(
      '--extra-ports <paths>',
      'comma-separated serial paths to list as ports, e.g. simulator ptys (env FLEETBENCH_EXTRA_PORTS)',
      env['FLEETBENCH_EXTRA_PORTS'],
    )
    .option(
      '--flash-concurrency <n>',
      'flash jobs running at once (env FLEETBENCH_FLASH_CONCURRENCY)',
      env['FLEETBENCH_FLASH_CONCURRENCY'] ?? '4',
    )
    .option(
      '--demo <n>',
      'also run N simulated devices, in a child process (env FLEETBENCH_DEMO)',
      env['FLEETBENCH_DEMO'] ?? '0',
    )
    .option(
      '--public-host <host>',
      'host name devices should use in the printed device URL (env FLEETBENCH_PUBLIC_HOST)',
      env['FLEETBENCH_PUBLIC_HOST'],
    )
    .option(
      '--log-level <level>',
      'silent|error|warn|info|debug (env FLEETBENCH_LOG_LEVEL)',
      env['FLEETBENCH_LOG_LEVEL'] ?? SERVE_DEFAULTS.logLevel,
    )
    .option('--no-mdns', 'do not advertise the hub by mDNS / DNS-SD (env FLEETBENCH_MDNS=off)')
    .option(
      '--mdns-name <label>',
      'mDNS host name: <label>.local, default fleetbench (env FLEETBENCH_MDNS_NAME)',
      env['FLEETBENCH_MDNS_NAME'],
    )
    // LAN services (issue 12); without these flags the saved settings (dashboard) apply.
    .option(
      '--lan-services',
      'answer SNTP and DNS for devices on an offline LAN (env FLEETBENCH_LAN_SERVICES=1)',
      env['FLEETBENCH_LAN_SERVICES'] === '1' ? true : undefined,
    )
    .option(
      '--sntp-port <port>',
      'SNTP UDP port, default 123 (env FLEETBENCH_SNTP_PORT)',
      env['FLEETBENCH_SNTP_PORT'],
    )
    .option(
      '--dns-port <port>',
      'DNS UDP port, default 53 (env FLEETBENCH_DNS_PORT)',
      env['FLEETBENCH_DNS_PORT'],
    )
    .option(
      '--dns-names <names>',
      'comma-separated names answered with the hub address, `*.` for subdomains (env FLEETBENCH_DNS_NAMES)',
      env['FLEETBENCH_DNS_NAMES'],
    )
    .option(
      '--dns-upstream <ip[:port]>',
      'resolver for every other name, or off: refused (env FLEETBENCH_DNS_UPSTREAM)',
      env['FLEETBENCH_DNS_UPSTREAM'],
    )
    .option(
      '--lan-address <ip>',
      'answer DNS with this address, not the query interface address (env FLEETBENCH_LAN_ADDRESS)',
      env['FLEETBENCH_LAN_ADDRESS'],
    )
    .action(
      async (
        o: LanFlags & {
          host: string;
          port: string;
          tlsPort: string;
          extraPorts?: string;
          flashConcurrency: string;
          tlsCert?: string;
          tlsKey?: string;
          dataDir: string;
          demo: string;
          publicHost?: string;
          logLevel: string;
          mdns: boolean;
          mdnsName?: string;
        },
      ) => {
        const stop = await serve(
          {
            host: o.host,
            tlsPort: parseTlsPort(o.tlsPort),
            flashConcurrency: Math.max(
              1,
              parseCount(o.flashConcurrency, '--flash-concurrency', 64),
            ),
            ...(o.extraPorts !== undefined && {
              extraPorts: o.extraPorts
                .split(',')
                .map((p) => p.trim())
                .filter(Boolean),
            }),
            ...(o.tlsCert !== undefined && { tlsCert: o.tlsCert }),
            ...(o.tlsKey !== undefined && { tlsKey: o.tlsKey }),
            port: parsePort(o.port),
            dataDir: o.dataDir,
            demo: parseCount(o.demo, '--demo'),
            logLevel: o.logLevel,
            lan: parseLanFlags(o),
            mdns: o.mdns && env['FLEETBENCH_MDNS'] !== 'off',
            ...(o.mdnsName !== undefined && { mdnsName: o.mdnsName }),
            ...(o.publicHost !== undefined && { publicHost: o.publicHost }),
          },
          (line) => console.log(line),
        );
        await new Promise<void>((resolve) => {
          const shutdown = (): void => {
            console.log('stopping...');
            void stop().then(resolve, resolve);
          };
          process.once('SIGINT', shutdown);
          process.once('SIGTERM', shutdown);
        });
      },
    );
}
