/**
 * Flasher page: the hub machine's serial ports, a flash form (firmware files with addresses,
 * chip, baud, erase, verify), and the jobs with live progress and cancel (DESIGN.md "One API
 * surface": everything here is `/api/v2/local/*` plus `flash.*` notifications).
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { useApp, useSession } from '../../app-context';
import { createFlasherApi } from '../../api/flasher-api';
import type { SocketLike } from '../../api/notify-stream';
import { createFlasherStore, type FlasherStore } from './flasher-store';
import { FlashForm } from './flash-form';
import { JobList } from './job-list';
import './flasher.css';

export function FlasherScreen(): ReactNode {
  const app = useApp();
  const api = useSession((s) => s.api);
  const [store, setStore] = useState<FlasherStore | null>(null);

  useEffect(() => {
    if (!api) return;
    const flasher = createFlasherApi({
      baseUrl: api.baseUrl,
      notifyUrl: api.notifyUrl(),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    });
    const s = createFlasherStore({
      api: flasher,
      reportError: (e, context) => app.toasts.getState().pushError(e, context),
    });
    setStore(s);
    void s.getState().refresh();
    const stop = flasher.events((batch) => s.getState().applyNotifications(batch));
    return () => stop();
  }, [api, app]);

  if (!store) return <main className="page">Loading…</main>;
  return <FlasherPage store={store} />;
}

function FlasherPage({ store }: { store: FlasherStore }): ReactNode {
  const ports = useStore(store, (s) => s.ports);
  const jobs = useStore(store, (s) => s.jobs);
  const loading = useStore(store, (s) => s.loading);
  const submitting = useStore(store, (s) => s.submitting);
  const error = useStore(store, (s) => s.error);
  const actions = store.getState();

  return (
    <main className="page page-flasher" aria-labelledby="flasher-title">
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
      {error && <p className="notice notice-error">{error}</p>}
      <section className="panel" aria-label="Serial ports">
        <div className="panel-head">
          <h2>Ports</h2>
        </div>
        {ports.length === 0 ? (
          <p className="muted">No serial ports found. Plug a board in, then Refresh.</p>
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
                <tr key={p.path}>
                  <td className="mono">{p.path}</td>
                  <td>{p.friendlyName}</td>
                  <td className="mono">
                    {p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : ''}
                  </td>
                  <td>
                    {p.owner ? (
                      `${p.owner.kind} ${p.owner.id}`
                    ) : (
                      <span className="muted">free</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <FlashForm
        ports={ports}
        submitting={submitting}
        onSubmit={(files, options) => void actions.flash(files, options)}
      />
      <JobList jobs={jobs} onCancel={(id) => void actions.cancel(id)} />
    </main>
  );
}
