/**
 * `fleetbench doctor [--json]` (issue 12): what a site needs, checked, with a fix printed under
 * each failing check. Against a running hub it prints the hub's own `GET /api/v2/doctor` (the
 * probes run where the services are); when no hub answers it runs the checks it can here
 * (lan/doctor-local.ts) and says how to start the hub.
 *
 * Exit codes: 0 no check failed, 1 a check failed (or the hub refused), 2 usage.
 */
import type { Command } from 'commander';
import Type from 'typebox';
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from '../config';
import type { DoctorCheck, DoctorReport } from '../../shared/lan';
import { doctorExitCode } from '../lan/doctor-checks';
import { runLocalDoctor } from '../lan/doctor-local';
import { probeSntp, probeTcp } from '../lan/doctor-probes';
import { splitHostPort } from '../lan/doctor-run';
import { isValid } from '../validate';
import { CliError } from './cli-errors';
import { parseIntOption } from './int-option';
import { addHubOptions, hubAt, hubRequest, resolveHub, type HubCliOptions } from './hub-client';

const ReportShape = Type.Object({
  checked_at: Type.Number(),
  checks: Type.Array(
    Type.Object({
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
    }),
  ),
});

const MARK: Record<DoctorCheck['state'], string> = {
  ok: '[ ok ]',
  warn: '[warn]',
  fail: '[FAIL]',
  skip: '[skip]',
};

/** One line per check; each fix line indented under its warn or fail check. */
export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.title.length), 0);
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${MARK[c.state]} ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix !== undefined && (c.state === 'fail' || c.state === 'warn')) {
      c.fix
        .split('\n')
        .forEach((l, i) => lines.push(`${' '.repeat(7)}${i === 0 ? 'fix: ' : '     '}${l}`));
    }
  }
  const failed = report.checks.filter((c) => c.state === 'fail').length;
  lines.push('', failed === 0 ? 'no check failed' : `${failed} check(s) failed`);
  return `${lines.join('\n')}\n`;
}

interface DoctorCliOptions extends HubCliOptions {
  json?: boolean;
  ntpServer?: string;
  tlsPort: string;
}

export async function doctorReport(o: DoctorCliOptions): Promise<DoctorReport> {
  const url = new URL(hubAt(o.hub ?? `http://127.0.0.1:${DEFAULT_PORT}`, '').base);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const up = await probeTcp(host, port);
  if (!up.ok) {
    const tlsPort = o.tlsPort === 'off' ? null : parseIntOption(o.tlsPort, '--tls-port', 1, 65535);
    const ntp = o.ntpServer !== undefined ? splitHostPort(o.ntpServer) : null;
    return runLocalDoctor({
      hubUrl: url.origin,
      hubError: up.error,
      dataDir: o.dataDir,
      httpPort: port,
      tlsPort,
      clock: {
        nowMs: Date.now(),
        newestStoredMs: null,
        upstream:
          ntp && o.ntpServer !== undefined
            ? { server: o.ntpServer, probe: await probeSntp(ntp.host, ntp.port) }
            : null,
      },
    });
  }
  const hub = resolveHub(o);
  const q = o.ntpServer !== undefined ? `?ntp_server=${encodeURIComponent(o.ntpServer)}` : '';
  const v = await hubRequest(hub, 'GET', `/api/v2/doctor${q}`);
  if (!isValid(ReportShape, v)) throw new CliError('the hub returned an unexpected doctor report');
  return v;
}

export function registerDoctorCommand(program: Command): void {
  const cmd = program
    .command('doctor')
    .description(
      'check what a site needs (LAN address, ports, SNTP/DNS, TLS certificate, clock) and print a fix for each failure; exit 0 no failure, 1 a check failed',
    );
  addHubOptions(cmd)
    .option('--json', 'print the report as JSON (the shape of GET /api/v2/doctor)')
    .option('--ntp-server <host[:port]>', 'also compare the clock with this NTP server')
    .option(
      '--tls-port <port|off>',
      'the TLS port to check when no hub runs (env FLEETBENCH_TLS_PORT)',
      process.env['FLEETBENCH_TLS_PORT'] ?? String(DEFAULT_TLS_PORT),
    )
    .action(async (o: DoctorCliOptions) => {
      const report = await doctorReport(o);
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      // A failed check is exit 1 (the entry turns a CliError into its exit code).
      if (doctorExitCode(report.checks) !== 0)
        throw new CliError('a check failed (fixes above)', 1);
    });
}
