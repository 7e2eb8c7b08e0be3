/**
 * How eagerly V8 grows the heap of a serving hub (issue 11: memory per device). By default V8 lets
 * the old generation grow by up to 4x between full collections; a connect storm of 10,000 devices
 * then left the heap at 260 MiB committed for 76 MiB live, and the hub at 32 KiB of RSS per device
 * at rest. A 20% growing factor kept it at 15 KiB per device (bench/RESULTS.md, "Issue 11: storm
 * and memory per device"), but cost CPU wherever the heap grows: in storms, where
 * heap-storm-mode.ts loosens it and collects after, and under sustained traffic. Since the
 * collections after a storm give its memory back, `fleetbench serve` keeps V8's own factor at rest
 * (config.ts `SERVE_HEAP_GROWING_PERCENT` = 0); a percent set there or on the command line still
 * works. Only `fleetbench serve` sets it: the flag is process-wide, and a library user or a test
 * process keeps V8's own choice.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_FLAG = '--heap-growing-percent';

/**
 * The flag to set, or null: none when `percent` is 0 or the process was started with its own
 * choice (`node --heap-growing-percent=N`, which wins).
 */
export function heapGrowingFlag(percent: number, execArgv: readonly string[]): string | null {
  if (!Number.isInteger(percent) || percent <= 0) return null;
  if (heapGrowingChosen(execArgv)) return null;
  return `${HEAP_GROWING_FLAG}=${percent}`;
}

/** Whether the process was started with its own growing factor, which nothing here overrides. */
export function heapGrowingChosen(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => a.startsWith(HEAP_GROWING_FLAG));
}

/** Sets the growing factor for this process; returns the flag set, or null. */
export function tuneHeapGrowing(percent: number): string | null {
  const flag = heapGrowingFlag(percent, process.execArgv);
  if (flag !== null) setFlagsFromString(flag);
  return flag;
}
