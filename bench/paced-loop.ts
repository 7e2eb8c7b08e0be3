/**
 * An open-loop load: calls are due at a fixed rate (evenly spaced, `rate` per second) whatever the
 * server's speed, and each call's latency runs from the moment it was due, not from when it was
 * sent. A closed loop (closed-loop.ts) measures throughput at saturation; its latency is only the
 * callers' count over the rate (Little's law: 64 callers at 3,200 calls/s wait 20 ms on average
 * whatever the server does). A paced load below saturation shows the latency a server adds.
 *
 * Calls go out on `lanes` (one request in flight per lane, as on one keep-alive socket each); a
 * call due while every lane is busy waits, and that wait counts in its latency (no coordinated
 * omission: a stalled server cannot hide its stall by slowing the load down).
 */
import { LatencyRecorder } from './latency';
import type { CallFn, LoopResult } from './closed-loop';

export interface PacedResult extends LoopResult {
  /** Calls per second asked for. */
  rate: number;
  /** Calls due in the window that had to wait for a free lane. */
  queued: number;
}

export async function runPacedLoop(
  rate: number,
  lanes: number,
  warmupMs: number,
  windowMs: number,
  call: CallFn,
): Promise<PacedResult> {
  if (!(rate > 0) || lanes < 1) throw new Error('runPacedLoop: rate > 0 and lanes >= 1');
  const latency = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let ok = 0;
  let queued = 0;
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + windowMs;
  const total = Math.floor(((warmupMs + windowMs) * rate) / 1000);
  const dueAt = (i: number): number => start + (i * 1000) / rate;
  const free: number[] = Array.from({ length: lanes }, (_, k) => lanes - 1 - k);
  const waiting: number[] = []; // due times of calls waiting for a lane
  let issued = 0;
  let inFlight = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const send = (lane: number, due: number): void => {
    inFlight++;
    const settle = (failure: string | null): void => {
      inFlight--;
      if (due >= windowStart && due < windowEnd) {
        if (failure === null) {
          ok++;
          latency.add(performance.now() - due);
        } else {
          errors[failure] = (errors[failure] ?? 0) + 1;
        }
      }
      const next = waiting.shift();
      if (next !== undefined) send(lane, next);
      else free.push(lane);
      if (issued === total && inFlight === 0 && waiting.length === 0) finish();
    };
    call(lane).then(settle, (e: unknown) =>
      settle(e instanceof Error ? e.message.slice(0, 80) : String(e)),
    );
  };

  // A 1 ms timer issues every call that has come due since its last turn; a late turn (the event
  // loop was busy) sends them at once, each still timed from its own due moment.
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (issued < total && dueAt(issued) <= now) {
        const due = dueAt(issued++);
        const lane = free.pop();
        if (lane !== undefined) send(lane, due);
        else {
          if (due >= windowStart && due < windowEnd) queued++;
          waiting.push(due);
        }
      }
      if (issued < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  if (inFlight > 0 || waiting.length > 0) await done;
  return { ok, errors, windowMs, latency, windowStart, windowEnd, rate, queued };
}
