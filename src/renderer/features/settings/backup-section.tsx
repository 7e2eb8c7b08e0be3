/**
 * Backup and restore under Settings (issue 12): "Download backup" with a progress bar (bytes
 * received of the Content-Length), and "Restore from file" with a confirmation (it replaces
 * everything on this hub) and an upload progress bar, then what the hub answered. The archive
 * holds the hub's secrets (master key, device passwords, local CA key): the section says so.
 */
import { useRef, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { useApp } from '../../app-context';
import type { Progress } from '../../api/backup-api';
import { Dialog } from '../../components/dialog';
import { formatBytes } from '../../lib/format-bytes';
import { absoluteTime } from '../../lib/relative-time';

function ProgressLine({ label, p }: { label: string; p: Progress }): ReactNode {
  const pct = p.total ? Math.min(100, Math.floor((p.done / p.total) * 100)) : undefined;
  return (
    <div className="stack" data-testid="backup-progress">
      <progress max={100} value={pct} aria-label={label} />
      <span className="muted small">
        {label}: {formatBytes(p.done)}
        {p.total !== null ? ` of ${formatBytes(p.total)} (${pct ?? 0}%)` : ''}
      </span>
    </div>
  );
}

export function BackupSection(): ReactNode {
  const app = useApp();
  const store = app.backup;
  const s = useStore(store);
  const job = s.job;
  const picker = useRef<HTMLInputElement>(null);
  const working = job.kind === 'downloading' || job.kind === 'uploading';

  return (
    <section className="card panel stack" aria-labelledby="backup-title" data-testid="backup">
      <div className="panel-head">
        <h2 id="backup-title">Backup and restore</h2>
        <span className="muted small">devices, keys, data, firmware, apps and settings</span>
      </div>
      <p className="muted small">
        A backup is one zip of everything this hub keeps, taken while it runs. It holds the hub's
        secrets (master key, device passwords, the local CA's private key): store it like the hub's
        data folder.
      </p>
      <div className="row-actions">
        <button
          type="button"
          className="btn btn-primary"
          disabled={working}
          onClick={() => void s.download()}
        >
          Download backup
        </button>
        <button
          type="button"
          className="btn"
          disabled={working}
          onClick={() => picker.current?.click()}
        >
          Restore from file…
        </button>
        <input
          ref={picker}
          type="file"
          accept=".zip,application/zip"
          hidden
          data-testid="restore-file"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (f) s.pick(f);
          }}
        />
      </div>
      {job.kind === 'downloading' && <ProgressLine label="Downloading" p={job.progress} />}
      {job.kind === 'uploading' && (
        <ProgressLine label={`Uploading ${job.fileName}`} p={job.progress} />
      )}
      {job.kind === 'downloaded' && (
        <p className="small" role="status" data-testid="backup-result">
          Saved <span className="mono">{job.fileName}</span> ({formatBytes(job.bytes)}).
        </p>
      )}
      {job.kind === 'restored' && (
        <div className="notice notice-warn" role="status" data-testid="restore-result">
          <strong>Restored.</strong> {job.result.message} Backup of{' '}
          {absoluteTime(job.result.manifest.created)}: {countsText(job.result.manifest.counts)}.
        </div>
      )}
      {job.kind === 'failed' && (
        <div className="notice notice-error" role="alert" data-testid="backup-error">
          {job.what === 'backup' ? 'Backup failed' : 'Restore refused'}: {job.message}
          {job.code !== 0 && <span className="mono small"> (code {job.code})</span>}
        </div>
      )}
      <Dialog
        open={job.kind === 'confirming'}
        title="Replace everything on this hub?"
        onClose={() => s.cancel()}
        testId="restore-confirm"
      >
        <div className="stack">
          <p>
            Restoring <span className="mono">{job.kind === 'confirming' ? job.file.name : ''}</span>{' '}
            replaces every device, key, customer, data row, firmware, app and setting of this hub
            with the backup's. The hub checks the whole file first, then restarts on it (devices
            reconnect by themselves). The current data stays on the hub machine beside its data
            folder (<span className="mono">.before-restore-…</span>).
          </p>
          <div className="row-actions">
            <button type="button" className="btn btn-ghost" onClick={() => s.cancel()}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-primary"
              data-testid="restore-confirm-button"
              onClick={() => void s.restore()}
            >
              Replace and restart
            </button>
          </div>
        </div>
      </Dialog>
    </section>
  );
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** "1 device, 0 customers, 2 firmware images, 1 app" */
function countsText(c: {
  devices: number;
  customers: number;
  firmware: number;
  apps: number;
}): string {
  return [
    plural(c.devices, 'device', 'devices'),
    plural(c.customers, 'customer', 'customers'),
    plural(c.firmware, 'firmware image', 'firmware images'),
    plural(c.apps, 'app', 'apps'),
  ].join(', ');
}
