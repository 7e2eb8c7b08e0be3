/** Devices: search, live table, add and delete (PROTOCOL.md 4, 7). */
import { useCallback, useState, type ReactNode } from 'react';
import { useApp, useDevices, useRoute } from '../../app-context';
import { useNow } from '../../components/use-now';
import { AddDeviceDialog } from './add-device-dialog';
import { DeleteDeviceDialog } from './delete-device-dialog';
import { DeviceTable } from './device-table';

export function DevicesScreen(): ReactNode {
  const app = useApp();
  // Counts and the ordered ids only: rows read their own device (device-table.tsx).
  const ids = useDevices((s) => s.visibleIds);
  const total = useDevices((s) => s.devices.size);
  const online = useDevices((s) => s.onlineCount);
  const loaded = useDevices((s) => s.loaded);
  const query = useDevices((s) => s.query);
  const sort = useDevices((s) => s.sort);
  const creating = useDevices((s) => s.creating);
  const createError = useDevices((s) => s.createError);
  const created = useDevices((s) => s.created);
  const deleting = useDevices((s) => s.deleting);
  const deleteError = useDevices((s) => s.deleteError);
  const actions = app.devices.getState();
  const navigate = useRoute((s) => s.navigate);
  const now = useNow(5000);
  const [adding, setAdding] = useState(false);
  const [toDelete, setToDelete] = useState<string | null>(null);
  const deleteTarget = useDevices((s) => (toDelete === null ? undefined : s.devices.get(toDelete)));

  const open = useCallback((id: string): void => navigate({ name: 'device', id }), [navigate]);
  const askDelete = useCallback(
    (id: string): void => {
      app.devices.getState().clearDeleteError();
      setToDelete(id);
    },
    [app],
  );

  return (
    <main className="page page-devices" aria-labelledby="devices-title">
      <div className="toolbar">
        <h1 id="devices-title">Devices</h1>
        <span className="muted" data-testid="device-count">
          {ids.length === total ? `${total} devices` : `${ids.length} of ${total} devices`} ·{' '}
          {online} online
        </span>
        <div className="toolbar-spacer" />
        <input
          type="search"
          className="input search"
          placeholder="Search id, name, firmware"
          aria-label="Search devices"
          value={query}
          onChange={(e) => actions.setQuery(e.target.value)}
          data-testid="device-search"
        />
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => {
            // A token from an earlier dialog is not shown again here (the device page has it).
            actions.dismissCreated();
            setAdding(true);
          }}
          data-testid="add-device"
        >
          Add device
        </button>
      </div>
      {loaded ? (
        <DeviceTable
          ids={ids}
          total={total}
          sort={sort}
          now={now}
          deleting={deleting}
          onSort={(key) => actions.toggleSort(key)}
          onOpen={open}
          onDelete={askDelete}
        />
      ) : (
        <p className="muted">Loading devices…</p>
      )}
      <AddDeviceDialog
        open={adding}
        creating={creating}
        error={createError}
        created={created}
        onCreate={(input) => void actions.create(input)}
        onEdit={actions.clearCreateError}
        onClose={() => {
          setAdding(false);
          actions.dismissCreated();
        }}
        onCopy={app.copyText}
        onOpenDevice={open}
      />
      <DeleteDeviceDialog
        id={toDelete}
        name={deleteTarget?.name ?? ''}
        deleting={deleting !== null}
        error={deleteError}
        onClose={() => {
          setToDelete(null);
          actions.clearDeleteError();
        }}
        onConfirm={(id) => {
          void actions.remove(id).then((ok) => {
            if (ok) {
              setToDelete(null);
              app.toasts.getState().push({ kind: 'success', message: `Deleted ${id}` });
            }
          });
        }}
      />
    </main>
  );
}
