/**
 * A closed-loop load: `concurrency` callers, each sending its next call as soon as the previous
 * one is answered, for a warm-up and then a measured window. Only calls that start inside the
 * window count, so the rate is completions per second of window and every latency is a whole
 * call. The loop ends by itself: callers stop starting calls at the window's end.
 */
import { LatencyRecorder } from './latency';

export interface LoopResult {
  /** Calls started in the window that succeeded. */
  ok: number;
  /** Calls started in the window that failed, by reason. */
  errors: Record<string, number>;
  windowMs: number;
  latency: LatencyRecorder;
  /** performance.now() at the window's start and end. */
  windowStart: number;
  windowEnd: number;
}

/** One call; resolve to null for success or to a short failure reason. */
export type CallFn = (caller: number) => Promise<string | null>;

export async function runClosedLoop(
  concurrency: number,
  warmupMs: number,
  windowMs: number,
  call: CallFn,
): Promise<LoopResult> {
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + windowMs;
  const caller = async (k: number): Promise<void> => {
    for (;;) {
      const t = performance.now();
      if (t >= windowEnd) return;
      let failure: string | null;
      try {
        failure = await call(k);
      } catch (e) {
        failure = e instanceof Error ? e.message.slice(0, 80) : String(e);
      }
      if (t < windowStart) continue;
      if (failure === null) {
        ok++;
        latency.add(performance.now() - t);
      } else {
        errors[failure] = (errors[failure] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, k) => caller(k)));
  return { ok, errors, windowMs, latency, windowStart, windowEnd };
}

/** Merges rounds of the same kind: rates add up over the summed windows. */
export function mergeLoops(rounds: readonly LoopResult[]): LoopResult {
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  let windowMs = 0;
  for (const r of rounds) {
    ok += r.ok;
    windowMs += r.windowMs;
    latency.addAll(r.latency);
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  return {
    ok,
    errors,
    windowMs,
    latency,
    windowStart: rounds[0]?.windowStart ?? 0,
    windowEnd: rounds.at(-1)?.windowEnd ?? 0,
  };
}

export function rate(r: LoopResult): number {
  return r.windowMs > 0 ? (r.ok * 1000) / r.windowMs : 0;
}

export function errorCount(r: LoopResult): number {
  return Object.values(r.errors).reduce((a, b) => a + b, 0);
}
