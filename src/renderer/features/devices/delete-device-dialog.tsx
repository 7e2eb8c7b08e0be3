/**
 * Confirm before `DELETE /devices/:id` (PROTOCOL.md 4): it closes the device's session and drops
 * its shadow. A failure is shown inside the dialog, which stays open.
 */
import type { ReactNode } from 'react';
import { ActionErrorNotice } from '../../components/action-error';
import { Dialog } from '../../components/dialog';
import type { ActionError } from '../../stores/devices-store';

export interface DeleteDeviceDialogProps {
  /** The device to delete; null when the dialog is closed. */
  id: string | null;
  name: string;
  deleting: boolean;
  error: ActionError | null;
  onConfirm(id: string): void;
  onClose(): void;
}

export function DeleteDeviceDialog({
  id,
  name,
  deleting,
  error,
  onConfirm,
  onClose,
}: DeleteDeviceDialogProps): ReactNode {
  return (
    <Dialog open={id !== null} title="Delete device?" onClose={onClose} testId="delete-dialog">
      {id !== null && (
        <div className="stack">
          <p>
            <strong className="mono">{id}</strong>
            {name !== '' && name !== id && <> ({name})</>} will be removed with its shadow. If it is
            online its connection is closed, and its token stops working. This cannot be undone.
          </p>
          <ActionErrorNotice error={error} testId="delete-error" />
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose} autoFocus>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              disabled={deleting}
              onClick={() => onConfirm(id)}
              data-testid="confirm-delete"
            >
              {deleting ? 'Deleting…' : 'Delete device'}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
