/** Confirm before `DELETE /devices/:id` (PROTOCOL.md 4): it closes the device's session and drops its shadow. */
import type { ReactNode } from 'react';
import type { DeviceObject } from '../../../shared/types';
import { Dialog } from '../../components/dialog';

export interface DeleteDeviceDialogProps {
  device: DeviceObject | null;
  deleting: boolean;
  onConfirm(id: string): void;
  onClose(): void;
}

export function DeleteDeviceDialog({
  device,
  deleting,
  onConfirm,
  onClose,
}: DeleteDeviceDialogProps): ReactNode {
  return (
    <Dialog open={device !== null} title="Delete device?" onClose={onClose} testId="delete-dialog">
      {device && (
        <div className="stack">
          <p>
            <strong className="mono">{device.id}</strong>
            {device.name !== '' && <> ({device.name})</>} will be removed with its shadow. If it is
            online its connection is closed, and its token stops working. This cannot be undone.
          </p>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose} autoFocus>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              disabled={deleting}
              onClick={() => onConfirm(device.id)}
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
