/**
 * The two error vocabularies of the flasher meet here: `FlashError` codes (flash-state.ts; what a
 * job's `failed` state carries) and the hub's catalog (errors.ts; what REST answers). A request
 * that fails its pre-flight checks is refused with the catalog code; a job that fails later keeps
 * its FlashError code in the `failed` state.
 */
import { HubError, type ErrorName } from '../../../shared/errors';
import { FlashError, type FlashErrorCode } from '../../../shared/flash-state';

const HUB_KIND: Record<FlashErrorCode, ErrorName> = {
  bad_image: 'image_invalid',
  image_too_large: 'image_too_large',
  wrong_chip: 'chip_mismatch',
  port_busy: 'port_busy',
  port_not_found: 'port_not_found',
  port_vanished: 'serial_error',
  provision_failed: 'validation_failed',
  no_sync: 'flash_failed',
  verify_failed: 'flash_failed',
  timeout: 'flash_failed',
  protocol_error: 'flash_failed',
  cancelled: 'conflict',
  internal: 'internal',
};

/** Any error from a pre-flight check as a HubError (FlashError codes mapped, hints kept). */
export function toHubError(err: unknown): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof FlashError) {
    // The REST error body has only code and message, so the hint rides in the message.
    const message = err.hint ? `${err.message} (${err.hint})` : err.message;
    return new HubError(HUB_KIND[err.code], message, {
      flashCode: err.code,
      ...(err.hint ? { hint: err.hint } : {}),
    });
  }
  return new HubError('internal', err instanceof Error ? err.message : String(err));
}

const INTERNAL_HINT = 'This is a bug in the flasher; please report it together with the job log.';

/** Any error thrown while a job runs as the FlashError its `failed` state reports. */
export function toJobError(err: unknown): FlashError {
  if (err instanceof FlashError) return err;
  if (err instanceof HubError) {
    if (err.kind === 'port_busy') return new FlashError('port_busy', err.message);
    if (err.kind === 'port_not_found') return new FlashError('port_not_found', err.message);
    if (err.kind === 'validation_failed') return new FlashError('bad_image', err.message);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new FlashError('internal', message, INTERNAL_HINT);
}

export { INTERNAL_HINT };
