/**
 * Flasher page: the hub machine's serial ports, a flash form (firmware files with addresses,
 * chip, baud, erase, verify), the jobs with live progress and cancel, and a serial monitor
 * (DESIGN.md "One API surface": everything here is `/api/v2/local/*` plus `flash.*`
 * notifications, authenticated with the session's key from `ApiClient.key()`).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { useApp, useSession } from '../../app-context';
import { createFlasherApi, type PortView } from '../../api/flasher-api';
import type { SocketLike } from '../../api/notify-stream';
import { createFlasherStore, type FlasherStore } from './flasher-store';
import { FlashForm } from './flash-form';
import { JobList } from './job-list';
import { MonitorPanel } from './monitor-panel';
import { createMonitorStore, type MonitorStore } from './monitor-store';
import { ownerLabel } from './job-format';
import './flasher.css';

export function FlasherScreen(): ReactNode {
  const app = useApp();
  const api = useSession((s) => s.api);
  const [stores, setStores] = useState<{ flasher: FlasherStore; monitor: MonitorStore } | null>(
    null,
  );

  useEffect(() => {
    if (!api) return;
    const flasher = createFlasherApi({
      baseUrl: api.baseUrl,
      key: api.key(),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    });
    const s = createFlasherStore({
      api: flasher,
      reportError: (e, context) => app.toasts.getState().pushError(e, context),
    });
    const monitor = createMonitorStore({
      api: flasher,
      onPortChange: () => void s.getState().refresh(),
    });
    setStores({ flasher: s, monitor });
    void s.getState().refresh();
    // Every open reloads, the first too: flash.* notifications sent before the socket was up
    // (or while it was down) are gone.
    const stop = flasher.events(
      (batch) => s.getState().applyNotifications(batch),
      undefined,
      () => void s.getState().refresh(),
    );
    return () => {
      stop();
      // Leaving the page releases the port the monitor holds.
      monitor.getState().close();
    };
  }, [api, app]);

  if (!stores) {
    return (
      <main className="page page-flasher">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  return <FlasherPage store={stores.flasher} monitor={stores.monitor} />;
}

function ownerCell(p: PortView): ReactNode {
  if (!p.owner) return <span className="muted">free</span>;
  return <span className="pill pill-warn">{ownerLabel(p.owner)}</span>;
}

function FlasherPage({
  store,
  monitor,
}: {
  store: FlasherStore;
  monitor: MonitorStore;
}): ReactNode {
  const ports = useStore(store, (s) => s.ports);
  const jobs = useStore(store, (s) => s.jobs);
  const loading = useStore(store, (s) => s.loading);
  const submitting = useStore(store, (s) => s.submitting);
  const error = useStore(store, (s) => s.error);
  const submitError = useStore(store, (s) => s.submitError);
  const actions = store.getState();
  const mon = useStore(monitor);

  return (
    <main className="page page-flasher" aria-labelledby="flasher-title" data-testid="flasher">
      <div className="toolbar">
        <h1 id="flasher-title">Flasher</h1>
        <span className="muted">Serial ports of the machine the hub runs on</span>
        <div className="toolbar-spacer" />
        <button
          type="button"
          className="btn"
          disabled={loading}
          onClick={() => void actions.refresh()}
          data-testid="flasher-refresh"
        >
          Refresh
        </button>
      </div>
      {error && (
        <p className="notice notice-error" role="alert" data-testid="flasher-load-error">
          Could not load the ports and jobs: {error}
        </p>
      )}
      <section className="card panel" aria-labelledby="flasher-ports-title">
        <header className="panel-head">
          <h2 id="flasher-ports-title">Ports</h2>
          <span className="muted small">
            {ports.length === 1 ? '1 port' : `${ports.length} ports`}
          </span>
        </header>
        {ports.length === 0 ? (
          <p className="muted flasher-empty" data-testid="flasher-no-ports">
            No serial ports found on the hub machine. Plug a board in (and check its USB cable
            carries data), then Refresh.
          </p>
        ) : (
          <table className="flasher-table" data-testid="flasher-ports">
            <thead>
              <tr>
                <th>Port</th>
                <th>Name</th>
                <th>VID:PID</th>
                <th>In use by</th>
              </tr>
            </thead>
            <tbody>
              {ports.map((p) => (
                <tr key={p.path} data-testid="port-row" data-path={p.path}>
                  <td className="mono">{p.path}</td>
                  <td>{p.friendlyName}</td>
                  <td className="mono">
                    {p.vendorId && p.productId ? (
                      `${p.vendorId}:${p.productId}`
                    ) : (
                      <span className="muted">–</span>
                    )}
                  </td>
                  <td data-testid="port-owner">{ownerCell(p)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <FlashForm
        ports={ports}
        submitting={submitting}
        submitError={submitError}
        onChange={() => actions.clearSubmitError()}
        onSubmit={(files, options) => void actions.flash(files, options)}
      />
      <JobList jobs={jobs} onCancel={(id) => void actions.cancel(id)} />
      <MonitorPanel
        ports={ports}
        status={mon.status}
        port={mon.port}
        baud={mon.baud}
        lines={mon.lines}
        onOpen={mon.open}
        onClose={mon.close}
        onSend={mon.send}
        onReset={mon.reset}
        onClear={mon.clear}
      />
    </main>
  );
}
