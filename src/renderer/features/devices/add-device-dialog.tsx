/**
 * Add a device (PROTOCOL.md 4 `POST /devices`), then show its token, with the URL to put in
 * firmware (PROTOCOL.md 1) and ready-made settings for Mongoose OS. A refusal from the hub (an id
 * that exists, 4092) is shown inside the dialog, where the id can be corrected.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { ActionErrorNotice } from '../../components/action-error';
import { CopyField } from '../../components/copy-field';
import { Dialog } from '../../components/dialog';
import { isLoopbackUrl } from '../../lib/device-fields';
import type { ActionError, CreatedDevice } from '../../stores/devices-store';

export interface AddDeviceDialogProps {
  open: boolean;
  creating: boolean;
  /** The hub refused the last attempt. */
  error: ActionError | null;
  created: CreatedDevice | null;
  onCreate(input: { name?: string; id?: string }): void;
  /** The input changed: the hub's last refusal no longer applies. */
  onEdit(): void;
  onClose(): void;
  onCopy(text: string): Promise<boolean>;
  onOpenDevice(id: string): void;
}

/** The hub's id rule (PROTOCOL.md 5: ids are `[A-Za-z0-9_.-]`). */
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function AddDeviceDialog(props: AddDeviceDialogProps): ReactNode {
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [error, setError] = useState<string | null>(null);

  const close = (): void => {
    setName('');
    setId('');
    setError(null);
    props.onClose();
  };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (name.length > 128) return setError('Names are at most 128 characters.');
    if (id !== '' && !ID_PATTERN.test(id))
      return setError('IDs use letters, digits and _ . - (at most 64).');
    setError(null);
    props.onCreate({ name: name.trim(), ...(id !== '' ? { id } : {}) });
  };

  const created = props.created;
  return (
    <Dialog
      open={props.open}
      title={created ? 'Device added' : 'Add device'}
      onClose={close}
      testId="add-device-dialog"
      wide={created !== null}
    >
      {created ? (
        <div className="stack">
          <p>
            <strong className="mono">{created.device.id}</strong> is registered. Its token is the
            device password: copy it now, or reveal it later on the device&apos;s page.
          </p>
          <CopyField
            label="Device token (password)"
            value={created.device.token}
            onCopy={props.onCopy}
            testId="new-device-token"
          />
          <CopyField
            label="Server URL for firmware"
            value={created.deviceUrl}
            onCopy={props.onCopy}
            testId="new-device-url"
          />
          {isLoopbackUrl(created.deviceUrl) && (
            <p className="notice notice-warn small">
              This address only works on this computer. Devices on the LAN need the hub&apos;s LAN
              address: open the dashboard through it, or use the desktop app.
            </p>
          )}
          <CopyField
            label="Mongoose OS"
            value={`mos config-set dash.enable=true dash.server=${created.deviceUrl} dash.token=${created.device.token}`}
            onCopy={props.onCopy}
            testId="new-device-mos"
          />
          <div className="dialog-actions">
            <button
              type="button"
              className="btn"
              onClick={() => {
                const devId = created.device.id;
                close();
                props.onOpenDevice(devId);
              }}
            >
              Open device
            </button>
            <button
              type="button"
              className="btn btn-primary"
              onClick={close}
              data-testid="add-device-done"
            >
              Done
            </button>
          </div>
        </div>
      ) : (
        <form className="stack" onSubmit={submit}>
          <div className="field">
            <label htmlFor="new-device-name">Name</label>
            <input
              id="new-device-name"
              className="input"
              value={name}
              autoFocus
              maxLength={128}
              onChange={(e) => {
                setName(e.target.value);
                props.onEdit();
              }}
              data-testid="new-device-name"
              placeholder="Greenhouse sensor"
            />
          </div>
          <div className="field">
            <label htmlFor="new-device-id">
              ID <span className="muted">(optional; the hub picks one)</span>
            </label>
            <input
              id="new-device-id"
              className="input mono"
              value={id}
              onChange={(e) => {
                setId(e.target.value);
                props.onEdit();
              }}
              data-testid="new-device-id"
              aria-invalid={props.error?.code === 4092 ? true : undefined}
              aria-describedby={props.error ? 'add-device-error' : undefined}
              spellCheck={false}
            />
          </div>
          {error !== null && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          <div id="add-device-error">
            <ActionErrorNotice error={props.error} testId="add-device-error" />
          </div>
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={close}>
              Cancel
            </button>
            <button
              type="submit"
              className="btn btn-primary"
              disabled={props.creating}
              data-testid="create-device"
            >
              {props.creating ? 'Adding…' : 'Add device'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
