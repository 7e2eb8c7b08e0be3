/**
 * Apps page (PROTOCOL.md 4 `POST /m`): the customer web apps this hub serves at `/a/<app_id>/`,
 * the built-in one first; upload a zip by drag-and-drop or file picker with a progress bar and the
 * hub's coded refusal under the drop zone; open an app in a new tab; delete an uploaded one.
 */
import { useState, type ReactNode } from 'react';
import { appPath } from '../../../shared/customer-app';
import { useApp, useApps } from '../../app-context';
import { ActionErrorNotice } from '../../components/action-error';
import { ConfirmDelete } from '../../components/confirm-delete';
import { useNow } from '../../components/use-now';
import { toUnixSeconds } from '../../lib/customer-devices';
import { formatBytes } from '../../lib/format-bytes';
import { UploadDropZone } from '../../components/upload-drop-zone';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import '../customers/customer-pages.css';

export function AppsScreen({ origin }: { origin: string }): ReactNode {
  const app = useApp();
  const a = app.apps.getState();
  const apps = useApps((s) => s.apps);
  const loadError = useApps((s) => s.loadError);
  const upload = useApps((s) => s.upload);
  const uploadError = useApps((s) => s.uploadError);
  const uploaded = useApps((s) => s.uploaded);
  const rowErrors = useApps((s) => s.rowErrors);
  const deleting = useApps((s) => s.deleting);
  const [confirm, setConfirm] = useState<string | null>(null);
  const now = useNow(30_000);
  const base = origin.replace(/\/+$/, '');

  const send = (files: readonly File[]): void => {
    const file = files[0];
    if (file) void a.uploadFile(file);
  };

  return (
    <main className="page page-customers" aria-labelledby="apps-title" data-testid="apps-page">
      <div className="toolbar">
        <h1 id="apps-title">Apps</h1>
        <span className="muted">customer web apps served by this hub</span>
        <div className="toolbar-spacer" />
        <button type="button" className="btn" onClick={() => void a.refresh()}>
          Refresh
        </button>
      </div>
      <UploadDropZone
        label="Upload an app"
        testId="apps"
        accept=".zip,application/zip"
        buttonText="Choose a zip…"
        upload={upload}
        onFiles={send}
      >
        <div className="dropzone-text">
          <strong>Drop an app .zip here</strong>
          <span className="muted small">
            A web app (PWA) with index.html at the zip root or under one top folder. Apps written
            for mdash.net need only their hub origin pointed here.
          </span>
        </div>
      </UploadDropZone>
      <ActionErrorNotice error={uploadError} testId="apps-upload-error" />
      {uploaded && (
        <p className="notice notice-ok" role="status" data-testid="apps-upload-result">
          Added app <span className="mono">{uploaded}</span>, served at{' '}
          <a href={`${base}${appPath(uploaded)}`} target="_blank" rel="noreferrer">
            {appPath(uploaded)}
          </a>
          .
        </p>
      )}
      {loadError && (
        <p className="notice notice-error" role="alert">
          Could not load the apps: {loadError}
        </p>
      )}
      <section className="card panel">
        <table className="cust-table" data-testid="apps-table">
          <thead>
            <tr>
              <th>App</th>
              <th>Served at</th>
              <th>Size</th>
              <th>Added</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {apps.map((x) => {
              const created = toUnixSeconds(x.created);
              const error = rowErrors[x.app_id] ?? null;
              return [
                <tr key={x.app_id} data-testid="app-row" data-id={x.app_id}>
                  <td>
                    <strong>{x.builtin ? 'Built-in app' : x.app_id}</strong>
                    {x.builtin ? (
                      <div className="muted small">
                        sign in with an invite link, see and control linked devices
                      </div>
                    ) : x.files !== undefined ? (
                      <div className="muted small">
                        {x.files === 1 ? '1 file' : `${x.files} files`}
                      </div>
                    ) : null}
                  </td>
                  <td className="mono small">{appPath(x.app_id)}</td>
                  <td className="nowrap">{x.bytes !== undefined ? formatBytes(x.bytes) : '—'}</td>
                  <td className="nowrap" title={created ? absoluteTime(created) : undefined}>
                    {created ? relativeTime(created, now) : '—'}
                  </td>
                  <td className="nowrap">
                    <div className="row-actions">
                      <a
                        className="btn btn-small"
                        href={`${base}${appPath(x.app_id)}`}
                        target="_blank"
                        rel="noreferrer"
                        data-testid="app-open"
                      >
                        Open ↗
                      </a>
                      {x.builtin ? null : (
                        <ConfirmDelete
                          testId="app"
                          confirming={confirm === x.app_id}
                          deleting={deleting === x.app_id}
                          disabled={deleting !== null}
                          onConfirm={(open) => setConfirm(open ? x.app_id : null)}
                          onDelete={() => {
                            setConfirm(null);
                            void a.remove(x.app_id);
                          }}
                        />
                      )}
                    </div>
                  </td>
                </tr>,
                error && (
                  <tr key={`${x.app_id}-error`}>
                    <td colSpan={5}>
                      <ActionErrorNotice error={error} testId="app-row-error" />
                    </td>
                  </tr>
                ),
              ];
            })}
          </tbody>
        </table>
      </section>
    </main>
  );
}
