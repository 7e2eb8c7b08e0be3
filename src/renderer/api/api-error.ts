/**
 * A failed hub call as the dashboard shows it: the catalog code and message from the hub's
 * `{"error":{"code","message"}}` body (PROTOCOL.md 4), or code 0 when the hub could not be reached.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** Catalog code (src/shared/errors.ts), the HTTP status when the body had none, 0 = network. */
    readonly code: number,
    /** HTTP status, 0 when there was no response. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 0, e instanceof Error ? e.message : String(e));
}
