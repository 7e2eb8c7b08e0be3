/**
 * One STM32 flash job over the system bootloader (FLASHING.md 4): open the port, optionally run a
 * BOOT0/NRST entry sequence, sync, identify the part, erase the pages the image covers, write in
 * 256-byte blocks, read back and compare, jump to the application. Progress goes through one
 * callback as FlashState values (DESIGN.md example 3):
 *
 *   connecting{attempt} -> detecting -> erasing -> writing{bytes,total}... -> verifying
 *   -> resetting -> done
 *
 * Failures are thrown as FlashError and never reported here: the job manager owns `failed`. The
 * port is closed (and the exit sequence run) in `finally` whatever happens.
 */
import { parseWith } from '../../validate';
import { FlashError, type ChipInfo, type FlashState } from '../../../shared/flash-state';
import { formatVersion, hex } from './an3155-codec';
import { FLASH_START, findDevice, formatSize, type Stm32Device } from './device-table';
import {
  NO_RESET_LINES_WARNING,
  parseEntrySequence,
  runSignalSteps,
  type EntrySequence,
  type Sleep,
} from './entry-sequence';
import { flattenImage } from './firmware-image';
import { planFlash, type FlashPlan } from './flash-plan';
import { Stm32Client, type Stm32Timeouts } from './stm32-client';
import { Stm32Link, type LineState } from './stm32-link';
import { Stm32FlashRequestSchema, type Stm32FlashRequest } from './stm32-flash-request';

export interface Stm32FlashResult {
  chip: ChipInfo;
  /** Image bytes programmed (without alignment padding). */
  bytesWritten: number;
  durationMs: number;
  /** Every byte sent on the serial line, protocol overhead and read-back requests included. */
  wireBytes: number;
  /** Things the user should know that did not stop the job (e.g. a pty has no reset lines). */
  warnings: string[];
}

/** Knobs for tests and the job manager; the REST request does not expose them. */
export interface Stm32FlashTuning {
  timeouts?: Partial<Stm32Timeouts>;
  /** Rounds of 0x7F sync (each up to 2 x initMs) before giving up with 'no_sync'. Default 3. */
  initAttempts?: number;
  /** Extra reads of a block that reads back wrong before verify_failed. Default 3. */
  verifyRetries?: number;
  /** Waits of the entry/exit sequence (tests pass a fast one). */
  sleep?: Sleep;
}

export const DEFAULT_BAUD = 115200;
export const DEFAULT_INIT_ATTEMPTS = 3;
export const DEFAULT_VERIFY_RETRIES = 3;

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FlashError('cancelled', 'cancelled');
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function chipInfo(dev: Stm32Device, bootloaderVersion: number): ChipInfo {
  return {
    chip: dev.name,
    flashSize: formatSize(dev.flashSize),
    details: {
      pid: hex(dev.pid, 4),
      bootloaderVersion: formatVersion(bootloaderVersion),
      family: dev.family,
    },
  };
}

async function connect(
  client: Stm32Client,
  report: (s: FlashState) => void,
  attempts: number,
  warnings: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    if (attempt > 1) report({ state: 'connecting', attempt });
    try {
      await client.init();
      return;
    } catch (err) {
      if (!(err instanceof FlashError) || err.code !== 'no_sync') throw err;
      if (attempt >= attempts) {
        const hint = warnings.includes(NO_RESET_LINES_WARNING) ? NO_RESET_LINES_WARNING : err.hint;
        throw new FlashError('no_sync', `${err.message} (${attempts} attempts)`, hint);
      }
    }
  }
}

async function writeAll(
  client: Stm32Client,
  plan: FlashPlan,
  imageAddress: number,
  report: (s: FlashState) => void,
  signal?: AbortSignal,
): Promise<void> {
  const total = plan.imageBytes;
  report({ state: 'writing', bytes: 0, total });
  for (const block of plan.blocks) {
    throwIfAborted(signal);
    await client.writeMemory(block.address, block.data);
    const done = Math.min(total, Math.max(0, block.address + block.data.length - imageAddress));
    report({ state: 'writing', bytes: done, total });
  }
}

/**
 * Read back each block and compare; a mismatch is read again up to `retries` times. Unlike
 * stm32flash `-v -n`, we do not write the block again: flash bits only go 1 -> 0, and F1/F4
 * flash controllers refuse to program a word that is not erased (PGERR), so a rewrite cannot mend
 * a bad word and only turns the problem into a NACK. A re-read does mend a garbled reply.
 */
async function verifyAll(
  client: Stm32Client,
  plan: FlashPlan,
  retries: number,
  signal?: AbortSignal,
): Promise<void> {
  for (const block of plan.blocks) {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal);
      const back = await client.readMemory(block.address, block.data.length);
      if (sameBytes(back, block.data)) break;
      if (attempt >= retries) {
        const at = back.findIndex((b, i) => b !== block.data[i]);
        throw new FlashError(
          'verify_failed',
          `flash at ${hex(block.address + at)} reads back ${hex(back[at] ?? 0, 2)}, expected ${hex(block.data[at] ?? 0, 2)} (read ${retries + 1} times)`,
          'the flash may be worn, protected, or the line unreliable; try a lower baud rate',
        );
      }
    }
  }
}

/**
 * Flashes one image. Throws HubError('validation_failed') for a malformed request (before the
 * port is opened), FlashError for everything else; reports states but never `failed`.
 */
export async function flashStm32(
  req: Stm32FlashRequest,
  report: (s: FlashState) => void,
  signal?: AbortSignal,
  tuning: Stm32FlashTuning = {},
): Promise<Stm32FlashResult> {
  const started = Date.now();
  parseWith(Stm32FlashRequestSchema, req);
  const sequence: EntrySequence | null = req.entrySequence
    ? parseEntrySequence(req.entrySequence)
    : null;
  // Parse the image first: a broken HEX file should not cost a board reset.
  flattenImage(req.image, FLASH_START);
  throwIfAborted(signal);

  const warnings: string[] = [];
  report({ state: 'connecting', attempt: 1 });
  const link = await Stm32Link.open({
    path: req.path,
    baudRate: req.baud ?? DEFAULT_BAUD,
    parity: req.parity ?? 'even',
    signal,
  });
  let lines: LineState | undefined;
  let exitPending = false;
  try {
    if (sequence && sequence.entry.length > 0) {
      const ran = await runSignalSteps(sequence.entry, link, { signal, sleep: tuning.sleep });
      lines = ran.lines;
      if (ran.warning) warnings.push(ran.warning);
    }
    exitPending = sequence !== null && sequence.exit.length > 0 && warnings.length === 0;

    const client = new Stm32Client(link, tuning.timeouts);
    await connect(client, report, tuning.initAttempts ?? DEFAULT_INIT_ATTEMPTS, warnings, signal);

    // Same order as stm32flash's stm32_init: Get Version, Get, Get ID (FLASHING.md 4.3).
    report({ state: 'detecting' });
    await client.getVersion();
    const get = await client.get();
    const pid = await client.getId();
    const dev = findDevice(pid);
    if (!dev) {
      throw new FlashError(
        'wrong_chip',
        `unknown STM32 product ID ${hex(pid, 4)}`,
        'the part is not in device-table.ts',
      );
    }
    const chip = chipInfo(dev, get.version);
    const image = flattenImage(req.image, dev.flashStart);
    const plan = planFlash(dev, image, req.eraseMode ?? 'pages');

    throwIfAborted(signal);
    report({ state: 'erasing' });
    await client.erase(plan.erase);

    await writeAll(client, plan, image.address, report, signal);

    if (req.verify ?? true) {
      report({ state: 'verifying' });
      await verifyAll(client, plan, tuning.verifyRetries ?? DEFAULT_VERIFY_RETRIES, signal);
    }

    const go = req.go ?? true;
    if (go !== false || exitPending) {
      report({ state: 'resetting' });
      if (go !== false) await client.go(go === true || go === 0 ? dev.flashStart : go);
      if (exitPending && sequence) {
        exitPending = false;
        await runSignalSteps(sequence.exit, link, {
          signal,
          sleep: tuning.sleep,
          initial: lines,
        });
      }
    }

    const durationMs = Date.now() - started;
    report({ state: 'done', durationMs, chip });
    return {
      chip,
      bytesWritten: plan.imageBytes,
      durationMs,
      wireBytes: link.bytesWritten,
      warnings,
    };
  } finally {
    if (exitPending && sequence && link.isOpen) {
      // Best effort: leave the board out of bootloader mode even after a failure.
      await runSignalSteps(sequence.exit, link, { sleep: tuning.sleep, initial: lines }).catch(
        () => undefined,
      );
    }
    await link.close();
  }
}
