/**
 * Flasher commands (issue: "the flasher core must also work from the CLI without a hub"):
 *
 *   fleetbench ports [--json]
 *   fleetbench flash --port P [--chip auto|esp32|...|stm32] [--baud B] [...] IMAGE[@ADDR]...
 *   fleetbench monitor --port P [--baud B] [--elf FILE]        (Ctrl-] quits)
 *   fleetbench bench --ports P1,P2 [...] IMAGE[@ADDR]... [--csv out.csv]
 *
 * They run the same job manager as the hub, in this process, with a port registry of their own
 * (the OS lock on the port keeps other programs out). `flash` runs its one job on this process's
 * loop (nothing else shares it); `bench` runs each board in a worker process like the hub. Exit
 * codes: EXIT in flash-args.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { FlashState } from '../../shared/flash-state';
import { HubError } from '../../shared/errors';
import { toCsv } from '../flasher/bench/bench-csv';
import { BenchRun, type BenchRow } from '../flasher/bench/bench-run';
import { buildFlashRequest } from '../flasher/jobs/flash-request';
import {
  FlashJobManager,
  type JobRecord,
  type ProvisioningFactory,
} from '../flasher/jobs/job-manager';
import { parseElfSymbols, type SymbolTable } from '../firmware/elf-symbols';
import { formatFrame, type PanicInfo } from '../flasher/monitor/panic-decoder';
import { SerialMonitor } from '../flasher/monitor/serial-monitor';
import { listPorts, type PortInfo } from '../flasher/serial/port-list';
import { PortRegistry } from '../flasher/serial/port-registry';
import { CliError } from './cli-errors';
import {
  EXIT,
  addFlashFlags,
  cliErrorFrom,
  exitCodeForFlash,
  optionsFromFlags,
  readImageArgs,
  type FlashFlags,
} from './flash-args';
import { ProgressView } from './flash-progress';
import { remoteHubProvisioning } from './flash-remote-hub';

const out = (s: string): void => void process.stdout.write(s);
const err = (s: string): void => void process.stderr.write(s);

/** Ctrl-]: the quit key of miniterm and telnet. */
export const QUIT_BYTE = 0x1d;

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function formatPortsTable(ports: PortInfo[]): string {
  if (ports.length === 0) return 'No serial ports found.\n';
  const rows = ports.map((p) => [
    p.path,
    p.friendlyName,
    p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : '',
    p.serialNumber ?? '',
  ]);
  const head = ['PORT', 'NAME', 'VID:PID', 'SERIAL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function formatPanic(p: PanicInfo): string {
  const where = p.fn
    ? ` in ${p.fn}${p.offset !== undefined ? `+0x${p.offset.toString(16)}` : ''}`
    : '';
  const core = p.core !== undefined ? ` (core ${p.core})` : '';
  const lines = [`--- panic: ${p.reason}${where}${core}`];
  if (p.faultAddress !== undefined)
    lines.push(`    fault address 0x${p.faultAddress.toString(16)}`);
  p.frames.forEach((f, i) => lines.push(`    #${i} ${formatFrame(f)}`));
  if (p.corrupted) lines.push('    (backtrace corrupted)');
  return lines.join('\n') + '\n';
}

async function provisioningFor(flags: FlashFlags): Promise<ProvisioningFactory | undefined> {
  if (!flags.provision || flags.provision === 'improv') return undefined;
  const hub = flags.hub ?? process.env['FLEETBENCH_HUB'];
  const key = flags.apiKey ?? process.env['FLEETBENCH_API_KEY'];
  if (!hub || !key) {
    throw new CliError(
      `--provision ${flags.provision} registers the device in a hub: give --hub URL and --api-key KEY`,
      EXIT.usage,
    );
  }
  return remoteHubProvisioning(hub, key);
}

/** Cancels the jobs on Ctrl-C / SIGTERM; returns the remover. */
function cancelOnSignal(cancel: () => void): () => void {
  const handler = (): void => {
    err('\nCancelling...\n');
    cancel();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function runFlash(images: string[], o: FlashFlags & { port: string }): Promise<number> {
  const files = readImageArgs(images);
  const options = optionsFromFlags(o.port, o);
  const provisioning = await provisioningFor(o);
  const manager = new FlashJobManager({
    registry: new PortRegistry(),
    concurrency: 1,
    // One job, then the process exits: no worker process to start (issue 11, end to end).
    runIn: 'in-process',
    ...(provisioning ? { provisioning } : {}),
  });
  const tty = process.stderr.isTTY === true && !o.json;
  const view = new ProgressView(tty);
  let barShown = false;
  const show = (s: FlashState): void => {
    if (o.json) return;
    const { lines, bar } = view.update(s);
    if (barShown && (lines.length > 0 || bar === null)) {
      err('\r\x1b[2K');
      barShown = false;
    }
    for (const l of lines) err(`${l}\n`);
    if (typeof bar === 'string') {
      err(`\r\x1b[2K${bar}`);
      barShown = true;
    }
  };
  let job: JobRecord;
  try {
    job = await manager.submit({
      request: buildFlashRequest(options, files),
      ...(options.provision ? { provision: options.provision } : {}),
    });
  } catch (e) {
    throw cliErrorFrom(e);
  }
  manager.on('state', (j, s) => {
    if (j.id === job.id) show(s);
  });
  const unhook = cancelOnSignal(() => manager.cancel(job.id));
  const end = await manager.wait(job.id).finally(unhook);
  await manager.close();
  if (o.json) out(JSON.stringify(end, null, 2) + '\n');
  const s = end.state;
  if (!o.json) for (const w of end.result?.warnings ?? []) err(`warning: ${w}\n`);
  if (s.state === 'done') return EXIT.ok;
  if (s.state === 'cancelled') throw new CliError('flashing was cancelled', EXIT.cancelled);
  if (s.state === 'failed') {
    throw new CliError(
      `${s.message} [${s.code}]${s.hint ? `\n  hint: ${s.hint}` : ''}`,
      exitCodeForFlash(s.code),
    );
  }
  return EXIT.failed;
}

function rowLine(r: BenchRow): string {
  const what =
    r.outcome === 'ok'
      ? `ok  ${r.chip ?? ''} ${r.mac ?? ''} ${r.flashSize ?? ''}${r.deviceId ? ` device ${r.deviceId}` : ''} ${((r.durationMs ?? 0) / 1000).toFixed(1)} s`
      : `${r.outcome}  ${r.error ?? ''}${r.hint ? ` (${r.hint})` : ''}`;
  return `${r.port}  ${what.replace(/\s+/g, ' ').trim()}`;
}

async function runBench(
  images: string[],
  o: FlashFlags & { ports: string; concurrency: string; retries: string; csv?: string },
): Promise<number> {
  const ports = splitList(o.ports);
  if (ports.length === 0)
    throw new CliError(
      '--ports: give at least one port, e.g. --ports /dev/ttyUSB0,/dev/ttyUSB1',
      EXIT.usage,
    );
  const concurrency = Number(o.concurrency);
  const retries = Number(o.retries);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new CliError('--concurrency: use 1..64', EXIT.usage);
  }
  if (!Number.isInteger(retries) || retries < 0 || retries > 10)
    throw new CliError('--retries: use 0..10', EXIT.usage);
  const files = readImageArgs(images);
  const { port: _placeholder, ...options } = optionsFromFlags(ports[0] ?? '-', o);
  const provisioning = await provisioningFor(o);
  const manager = new FlashJobManager({
    registry: new PortRegistry(),
    concurrency,
    ...(provisioning ? { provisioning } : {}),
  });
  let run: BenchRun;
  try {
    run = new BenchRun(manager, { ports, files, options });
  } catch (e) {
    throw cliErrorFrom(e);
  }
  const lastShown = new Map<string, string>();
  run.on('state', (row, s) => {
    if (o.json) return;
    const key =
      s.state === 'writing'
        ? `writing ${Math.floor((s.bytes / Math.max(1, s.total)) * 4) * 25}%`
        : s.state;
    if (lastShown.get(row.port) === key || s.state === 'done' || s.state === 'failed') return;
    lastShown.set(row.port, key);
    err(`[${basename(row.port)}] ${key}\n`);
  });
  run.on('row', (row) => {
    if (
      !o.json &&
      (row.outcome === 'ok' || row.outcome === 'failed' || row.outcome === 'cancelled')
    ) {
      err(`[${basename(row.port)}] ${rowLine(row)}\n`);
    }
  });
  const unhook = cancelOnSignal(() => run.cancel());
  try {
    try {
      await run.inspect();
      run.start();
    } catch (e) {
      throw cliErrorFrom(e);
    }
    let snap = await run.wait();
    for (let i = 0; i < retries && snap.summary.failed + snap.summary.cancelled > 0; i++) {
      if (snap.summary.cancelled > 0 && snap.rows.every((r) => r.outcome !== 'failed')) break;
      if (!o.json)
        err(`Retrying ${snap.summary.failed} failed port(s) (round ${i + 1} of ${retries})...\n`);
      run.retryFailed();
      snap = await run.wait();
    }
    if (o.csv) writeFileSync(o.csv, toCsv(snap.rows));
    if (o.json) out(JSON.stringify(snap, null, 2) + '\n');
    else {
      out(snap.rows.map(rowLine).join('\n') + '\n');
      out(`${snap.summary.ok}/${snap.summary.total} ok${o.csv ? `, results in ${o.csv}` : ''}\n`);
    }
    if (snap.summary.cancelled > 0) throw new CliError('the bench was cancelled', EXIT.cancelled);
    if (snap.summary.ok !== snap.summary.total) {
      throw new CliError(
        `${snap.summary.total - snap.summary.ok} of ${snap.summary.total} boards failed`,
        EXIT.failed,
      );
    }
    return EXIT.ok;
  } finally {
    unhook();
    await manager.close();
  }
}

async function runMonitor(o: { port: string; baud: string; elf?: string }): Promise<number> {
  const baud = Number(o.baud);
  let symbols: SymbolTable | null = null;
  if (o.elf) {
    try {
      symbols = parseElfSymbols(new Uint8Array(readFileSync(o.elf)));
    } catch (e) {
      throw new CliError(`--elf: ${(e as Error).message}`, EXIT.usage);
    }
  }
  const monitor = new SerialMonitor({ symbols });
  try {
    await monitor.open({ path: o.port, baud });
  } catch (e) {
    if (e instanceof HubError)
      throw new CliError(e.message, e.kind === 'validation_failed' ? EXIT.usage : EXIT.port);
    throw e;
  }
  err(
    `--- ${o.port} at ${baud} baud. Quit: Ctrl-]${symbols ? `; ${symbols.size} symbols loaded` : ''} ---\n`,
  );
  monitor.on('data', (chunk) => out(chunk.toString('latin1')));
  monitor.on('panic', (p) => err(formatPanic(p)));
  monitor.on('warning', (w) => err(`--- ${w}\n`));

  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (code: number, why?: string): void => {
      if (done) return;
      done = true;
      stdin.off('data', onInput);
      if (raw) stdin.setRawMode(false);
      // A paused stdin pipe still keeps the process alive: the command is over, let it go.
      stdin.destroy();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void monitor
        .close()
        .catch(() => {})
        .finally(() => (why ? reject(new CliError(why, code)) : resolve(code)));
    };
    const onInput = (chunk: Buffer): void => {
      const quit = chunk.indexOf(QUIT_BYTE);
      const data = quit === -1 ? chunk : chunk.subarray(0, quit);
      if (data.length > 0) {
        monitor
          .write(data)
          .catch((e: unknown) => err(`--- write failed: ${(e as Error).message}\n`));
      }
      if (quit !== -1) {
        err('\n--- quit ---\n');
        finish(EXIT.ok);
      }
    };
    const onSignal = (): void => finish(EXIT.ok);
    monitor.once('close', (info) => {
      if (info.reason !== 'closed') {
        err('\n');
        finish(EXIT.port, info.message);
      }
    });
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.resume();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Commander actions cannot return an exit code; this records it for main() to use. */
function setExit(code: number): void {
  if (code !== 0) process.exitCode = code;
}

export function registerFlasherCommands(program: Command): void {
  program
    .command('ports')
    .description('list serial ports (USB vendor/product ids, serial number, name)')
    .option('--json', 'print JSON')
    .option(
      '--extra <paths>',
      'also list these paths when they exist (comma-separated, e.g. socat ptys)',
    )
    .action(async (o: { json?: boolean; extra?: string }) => {
      const ports = await listPorts({
        extraPaths: splitList(o.extra),
        onWarning: (w) => {
          if (!o.json) err(`note: ${w}\n`);
        },
      });
      out(o.json ? JSON.stringify(ports, null, 2) + '\n' : formatPortsTable(ports));
    });

  addFlashFlags(
    program
      .command('flash')
      .description(
        'flash ESP32 (esptool protocol) or STM32 (AN3155 bootloader) firmware over serial',
      )
      .requiredOption('--port <path>', 'serial port, e.g. /dev/ttyUSB0 or COM3')
      .argument(
        '<image...>',
        'firmware files, each optionally with @ADDRESS (e.g. app.bin@0x10000), or a .zip/.hex/manifest',
      ),
  ).action(async (images: string[], o: FlashFlags & { port: string }) =>
    setExit(await runFlash(images, o)),
  );

  program
    .command('monitor')
    .description('serial monitor: board output to stdout, stdin to the board, decoded ESP32 panics')
    .requiredOption('--port <path>', 'serial port')
    .option('--baud <baud>', 'baud rate', '115200')
    .option('--elf <file>', 'firmware ELF: decode panic backtraces to function names')
    .action(async (o: { port: string; baud: string; elf?: string }) =>
      setExit(await runMonitor(o)),
    );

  addFlashFlags(
    program
      .command('bench')
      .description('flash (and provision) several boards at once; one result row per port')
      .requiredOption('--ports <paths>', 'comma-separated serial ports')
      .option('--concurrency <n>', 'boards flashed at the same time', '4')
      .option('--retries <n>', 'run the failed ports again this many times', '0')
      .option('--csv <file>', 'write the result rows as CSV')
      .argument('<image...>', 'firmware files, each optionally with @ADDRESS'),
  ).action(
    async (
      images: string[],
      o: FlashFlags & { ports: string; concurrency: string; retries: string; csv?: string },
    ) => setExit(await runBench(images, o)),
  );
}
