/**
 * Reconnect delays for the notify stream: exponential with full jitter, capped, so a hub restart
 * with many dashboards open does not get them all back in the same millisecond.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000 };

/** Delay before reconnect attempt `attempt` (1-based); `random` in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: never zero (a tight loop against a down hub), never above the cap.
  return Math.round(exp / 2 + (exp / 2) * random());
}
