/**
 * Runs one flash request with the right flasher (ESP through esptool-js, STM32 through our AN3155
 * client). This is what the worker thread executes (flash-worker.ts); it is also callable
 * in-process. States go to `report`; failures are thrown as FlashError (the caller owns `failed`).
 */
import type { ChipInfo, FlashState } from '../../../shared/flash-state';
import { flashEsp } from '../esp/flash-esp';
import { flashStm32, type Stm32FlashTuning } from '../stm32/flash-stm32';
import { toStm32Image, type FlashRequest } from './flash-request';
import { toJobError } from './job-errors';

/** What both flashers report when they finish. */
export interface FlashOutcome {
  chip: ChipInfo;
  /** Image bytes programmed. */
  bytesWritten: number;
  /** Bytes sent on the wire (ESP: data block payload after compression; STM32: every byte). */
  wireBytes: number;
  durationMs: number;
  warnings: string[];
}

/** Plain-data knobs (a function cannot cross to the worker, so no custom sleep here). */
export interface RunnerTuning {
  stm32?: Omit<Stm32FlashTuning, 'sleep'>;
}

export async function runFlash(
  req: FlashRequest,
  report: (s: FlashState) => void,
  signal?: AbortSignal,
  opts: { log?: (line: string) => void; tuning?: RunnerTuning } = {},
): Promise<FlashOutcome> {
  try {
    if (req.kind === 'esp') {
      const r = await flashEsp(
        {
          ...req.esp,
          path: req.port,
          images: { kind: 'files', files: req.files },
          ...(opts.log ? { log: opts.log } : {}),
        },
        report,
        signal,
      );
      return {
        chip: r.chip,
        bytesWritten: r.bytesWritten,
        wireBytes: r.wireBytes,
        durationMs: r.durationMs,
        warnings: r.warnings,
      };
    }
    const r = await flashStm32(
      { ...req.stm32, path: req.port, image: toStm32Image(req.files) },
      report,
      signal,
      opts.tuning?.stm32 ?? {},
    );
    for (const w of r.warnings) opts.log?.(`Warning: ${w}`);
    return {
      chip: r.chip,
      bytesWritten: r.bytesWritten,
      wireBytes: r.wireBytes,
      durationMs: r.durationMs,
      warnings: r.warnings,
    };
  } catch (err) {
    throw toJobError(err);
  }
}
