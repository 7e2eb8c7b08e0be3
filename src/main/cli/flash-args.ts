/**
 * Command-line flags of `fleetbench flash` and `fleetbench bench` turned into the same validated
 * options the REST API takes (flash-request.ts), so both paths share one schema. Bad flags are a
 * CliError with exit code 2 (usage).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { HubError, type ErrorName } from '../../shared/errors';
import type { FlashErrorCode } from '../../shared/flash-state';
import { firstProblem } from '../validate';
import {
  CHIP_CHOICES,
  FlashOptionsSchema,
  splitAddressSuffix,
  type FlashFile,
  type FlashOptions,
} from '../flasher/jobs/flash-request';
import { CliError } from './cli-errors';

/** Exit codes of the flasher commands (documented in the README's Flashing section). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  port: 3,
  board: 4,
  provision: 5,
  cancelled: 130,
} as const;

export function exitCodeForFlash(code: FlashErrorCode): number {
  switch (code) {
    case 'port_not_found':
    case 'port_busy':
    case 'port_vanished':
      return EXIT.port;
    case 'no_sync':
    case 'wrong_chip':
    case 'image_too_large':
      return EXIT.board;
    case 'bad_image':
      return EXIT.usage;
    case 'provision_failed':
      return EXIT.provision;
    case 'cancelled':
      return EXIT.cancelled;
    default:
      return EXIT.failed;
  }
}

export function exitCodeForHub(kind: ErrorName): number {
  if (kind === 'port_not_found' || kind === 'port_busy' || kind === 'serial_error')
    return EXIT.port;
  if (kind === 'chip_mismatch' || kind === 'image_too_large') return EXIT.board;
  if (kind === 'internal' || kind === 'flash_failed') return EXIT.failed;
  return EXIT.usage;
}

/** A HubError from a pre-flight check as a CliError with the right exit code. */
export function cliErrorFrom(err: unknown): unknown {
  if (err instanceof HubError) return new CliError(err.message, exitCodeForHub(err.kind));
  return err;
}

/** The largest firmware file the CLI reads (the biggest ESP flash is 128 MB). */
export const MAX_IMAGE_FILE_BYTES = 128 * 1024 * 1024;

/** `fw.bin`, `app.bin@0x10000`: reads each file; a path that exists as given wins over a suffix. */
export function readImageArgs(args: readonly string[]): FlashFile[] {
  if (args.length === 0)
    throw new CliError('give at least one firmware file (IMAGE[@ADDR])', EXIT.usage);
  return args.map((arg) => {
    const spec = existsSync(arg) ? { name: arg } : splitAddressSuffix(arg);
    const path = spec.name;
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw new CliError(`cannot read firmware ${path}: ${(err as Error).message}`, EXIT.usage);
    }
    if (size > MAX_IMAGE_FILE_BYTES)
      throw new CliError(`${path} is larger than 128 MB`, EXIT.usage);
    const data = new Uint8Array(readFileSync(path));
    return {
      name: basename(path),
      data,
      ...(spec.address !== undefined ? { address: spec.address } : {}),
    };
  });
}

export interface FlashFlags {
  chip?: string;
  baud?: string;
  eraseAll?: boolean;
  verify?: boolean;
  compress?: boolean;
  reset?: string;
  flashMode?: string;
  flashFreq?: string;
  flashSize?: string;
  stm32Entry?: string;
  stm32Parity?: string;
  provision?: string;
  wifiSsid?: string;
  wifiPass?: string;
  template?: string;
  templateFile?: string;
  name?: string;
  expect?: string;
  onlineTimeout?: string;
  provisionBaud?: string;
  hub?: string;
  apiKey?: string;
  json?: boolean;
}

/** Adds the flags shared by `flash` and `bench`. */
export function addFlashFlags(cmd: Command): Command {
  return cmd
    .option('--chip <chip>', `${CHIP_CHOICES.join('|')}`, 'auto')
    .option('--baud <baud>', 'ESP: up to 921600 (default 460800); STM32: default 115200')
    .option('--erase-all', 'erase the whole flash first')
    .option('--no-verify', 'skip the read-back/MD5 verification')
    .option('--no-compress', 'ESP: send uncompressed data')
    .option('--reset <mode>', 'hard (default) or none: stay in the bootloader')
    .option('--flash-mode <mode>', 'ESP: keep|qio|qout|dio|dout')
    .option('--flash-freq <freq>', 'ESP: keep|80m|40m|...')
    .option('--flash-size <size>', 'ESP: keep|detect|4MB|...')
    .option(
      '--stm32-entry <seq>',
      "STM32: stm32flash -i style entry:exit sequence, e.g. '-dtr,rts,-rts:dtr'",
    )
    .option('--stm32-parity <parity>', 'STM32: even (default, 8E1) or none (8N1)')
    .option('--provision <kind>', 'after flashing: mos | improv | template')
    .option('--wifi-ssid <ssid>', 'provisioning: Wi-Fi network')
    .option('--wifi-pass <pass>', 'provisioning: Wi-Fi password (env FLEETBENCH_WIFI_PASS)')
    .option('--template <text>', 'provisioning: line template, e.g. "set id {id}\\n"')
    .option('--template-file <file>', 'provisioning: read the template from a file')
    .option('--name <name>', 'provisioning: device name in the hub')
    .option('--expect <pattern>', 'template provisioning: answer to wait for after each line')
    .option(
      '--online-timeout <s>',
      'provisioning: seconds to wait for the device online (0: do not wait)',
    )
    .option(
      '--provision-baud <baud>',
      'provisioning: console baud of the firmware (default 115200)',
    )
    .option('--hub <url>', 'provisioning: hub that registers the device (env FLEETBENCH_HUB)')
    .option('--api-key <key>', 'provisioning: master key of that hub (env FLEETBENCH_API_KEY)')
    .option('--json', 'print the result as JSON');
}

function int(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n))
    throw new CliError(`${flag}: '${text}' is not a whole number`, EXIT.usage);
  return n;
}

/** Flags -> the options object of the REST API (validated). `port` may be a placeholder for bench. */
export function optionsFromFlags(port: string, f: FlashFlags): FlashOptions {
  const o: Record<string, unknown> = { port };
  if (f.chip !== undefined) o['chip'] = f.chip;
  const baud = int(f.baud, '--baud');
  if (baud !== undefined) o['baud'] = baud;
  if (f.eraseAll) o['eraseAll'] = true;
  if (f.verify === false) o['verify'] = false;
  if (f.compress === false) o['compress'] = false;
  if (f.reset !== undefined) o['reset'] = f.reset;
  if (f.flashMode !== undefined) o['flashMode'] = f.flashMode;
  if (f.flashFreq !== undefined) o['flashFreq'] = f.flashFreq;
  if (f.flashSize !== undefined) o['flashSize'] = f.flashSize;
  const stm32: Record<string, unknown> = {};
  if (f.stm32Entry !== undefined) stm32['entrySequence'] = f.stm32Entry;
  if (f.stm32Parity !== undefined) stm32['parity'] = f.stm32Parity;
  if (Object.keys(stm32).length > 0) o['stm32'] = stm32;
  if (f.provision !== undefined) {
    const p: Record<string, unknown> = { kind: f.provision };
    const pass = f.wifiPass ?? process.env['FLEETBENCH_WIFI_PASS'];
    if (f.wifiSsid !== undefined) p['wifi'] = { ssid: f.wifiSsid, pass: pass ?? '' };
    if (f.templateFile !== undefined) {
      try {
        p['template'] = readFileSync(f.templateFile, 'utf8');
      } catch (err) {
        throw new CliError(`--template-file: ${(err as Error).message}`, EXIT.usage);
      }
    } else if (f.template !== undefined) {
      p['template'] = f.template;
    }
    if (f.name !== undefined) p['name'] = f.name;
    if (f.expect !== undefined) p['expect'] = f.expect;
    const online = int(f.onlineTimeout, '--online-timeout');
    if (online !== undefined) p['onlineTimeoutMs'] = online * 1000;
    const pb = int(f.provisionBaud, '--provision-baud');
    if (pb !== undefined) p['baud'] = pb;
    o['provision'] = p;
  }
  const problem = firstProblem(FlashOptionsSchema, o);
  if (problem !== null) throw new CliError(`invalid options: ${flagName(problem)}`, EXIT.usage);
  return o as FlashOptions;
}

const FLAG_OF: Record<string, string> = {
  '/stm32/parity': '--stm32-parity',
  '/stm32/entrySequence': '--stm32-entry',
  '/provision/kind': '--provision',
  '/provision/wifi/ssid': '--wifi-ssid',
  '/provision/wifi/pass': '--wifi-pass',
  '/provision/template': '--template',
  '/provision/name': '--name',
  '/provision/expect': '--expect',
  '/provision/onlineTimeoutMs': '--online-timeout',
  '/provision/baud': '--provision-baud',
};

/** "/eraseAll: ..." -> "--erase-all: ...", so the message names the flag the user typed. */
function flagName(problem: string): string {
  const m = /^(\/[A-Za-z0-9/]+)(:.*)$/s.exec(problem);
  if (!m?.[1]) return problem;
  const path = m[1];
  const mapped = FLAG_OF[path];
  if (mapped) return `${mapped}${m[2] ?? ''}`;
  if (path.split('/').length !== 2) return problem;
  return `--${path.slice(1).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${m[2] ?? ''}`;
}
