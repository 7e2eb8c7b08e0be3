/**
 * How eagerly V8 grows the heap of a serving hub (issue 11: memory per device). By default V8 lets
 * the old generation grow by up to 4x between full collections; a connect storm of 10,000 devices
 * then left the heap at 260 MiB committed for 76 MiB live, and the hub at 32 KiB of RSS per device
 * at rest. A 20% growing factor kept it at 15 KiB per device for about a fifth more CPU in the storm
 * (bench/RESULTS.md, "Issue 11: storm and memory per device"); during a login storm it is loosened
 * (heap-storm-mode.ts). Only `fleetbench serve` sets it: the flag is process-wide, and a library
 * user or a test process keeps V8's own choice.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_FLAG = '--heap-growing-percent';

/**
 * The flag to set, or null: none when `percent` is 0 or the process was started with its own
 * choice (`node --heap-growing-percent=N`, which wins).
 */
export function heapGrowingFlag(percent: number, execArgv: readonly string[]): string | null {
  if (!Number.isInteger(percent) || percent <= 0) return null;
  if (execArgv.some((a) => a.startsWith(HEAP_GROWING_FLAG))) return null;
  return `${HEAP_GROWING_FLAG}=${percent}`;
}

/** Sets the growing factor for this process; returns the flag set, or null. */
export function tuneHeapGrowing(percent: number): string | null {
  const flag = heapGrowingFlag(percent, process.execArgv);
  if (flag !== null) setFlagsFromString(flag);
  return flag;
}
