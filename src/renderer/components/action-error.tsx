/**
 * A failed action shown where it was attempted (inside its dialog or form), with the hub's
 * catalog code (PROTOCOL.md 4) so it can be reported: a toast in the corner would sit behind a
 * modal dialog, out of reach of the user who is looking at the dialog.
 */
import type { ReactNode } from 'react';
import type { ActionError } from '../stores/devices-store';

export function ActionErrorNotice({
  error,
  testId,
}: {
  error: ActionError | null;
  testId?: string;
}): ReactNode {
  if (error === null) return null;
  return (
    <p className="notice notice-error" role="alert" data-testid={testId} data-code={error.code}>
      <span className="toast-code">{error.code === 0 ? 'network' : error.code}</span>
      <span>{error.message}</span>
    </p>
  );
}
