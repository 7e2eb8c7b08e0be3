/**
 * Freezes a parsed JSON value and everything in it. The device registry hands the same in-memory
 * object to every caller (issue 11: no table read and no parse per call); frozen, a caller that
 * tried to change it in place would throw instead of silently changing every other caller's view.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
