/** Devices: search, live table, add and delete (PROTOCOL.md 4, 7). */
import { useDeferredValue, useMemo, useState, type ReactNode } from 'react';
import type { DeviceObject } from '../../../shared/types';
import { useApp, useDevices, useRoute } from '../../app-context';
import { useNow } from '../../components/use-now';
import { countOnline, visibleDevices } from '../../lib/device-list';
import { AddDeviceDialog } from './add-device-dialog';
import { DeleteDeviceDialog } from './delete-device-dialog';
import { DeviceTable } from './device-table';

export function DevicesScreen(): ReactNode {
  const app = useApp();
  const devices = useDevices((s) => s.devices);
  const loaded = useDevices((s) => s.loaded);
  const query = useDevices((s) => s.query);
  const sort = useDevices((s) => s.sort);
  const creating = useDevices((s) => s.creating);
  const created = useDevices((s) => s.created);
  const deleting = useDevices((s) => s.deleting);
  const actions = app.devices.getState();
  const navigate = useRoute((s) => s.navigate);
  const now = useNow(5000);
  const [adding, setAdding] = useState(false);
  const [toDelete, setToDelete] = useState<DeviceObject | null>(null);

  // Typing stays responsive with 10,000 devices: filtering runs on the deferred query.
  const deferredQuery = useDeferredValue(query);
  const rows = useMemo(
    () => visibleDevices(devices, deferredQuery, sort),
    [devices, deferredQuery, sort],
  );
  const online = useMemo(() => countOnline(devices), [devices]);
  const open = (id: string): void => navigate({ name: 'device', id });

  return (
    <main className="page page-devices" aria-labelledby="devices-title">
      <div className="toolbar">
        <h1 id="devices-title">Devices</h1>
        <span className="muted" data-testid="device-count">
          {rows.length === devices.size
            ? `${devices.size} devices`
            : `${rows.length} of ${devices.size} devices`}{' '}
          · {online} online
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
            // A token from an earlier dialog is never shown again.
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
          rows={rows}
          total={devices.size}
          sort={sort}
          now={now}
          deleting={deleting}
          onSort={(key) => actions.toggleSort(key)}
          onOpen={open}
          onDelete={setToDelete}
        />
      ) : (
        <p className="muted">Loading devices…</p>
      )}
      <AddDeviceDialog
        open={adding}
        creating={creating}
        created={created}
        onCreate={(input) => void actions.create(input)}
        onClose={() => {
          setAdding(false);
          actions.dismissCreated();
        }}
        onCopy={app.copyText}
        onOpenDevice={open}
      />
      <DeleteDeviceDialog
        device={toDelete}
        deleting={deleting !== null}
        onClose={() => setToDelete(null)}
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
