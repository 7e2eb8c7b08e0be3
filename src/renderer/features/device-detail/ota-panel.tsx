/**
 * OTA on the device page (PROTOCOL.md 6, 9): the firmware the device runs (its reported `fw_id` /
 * `fw_version`, matched to a library firmware by the `fw_id` the hub learned), a start from a
 * library firmware or a picked file, the latest job's progress bar and state, Cancel, a refusal
 * under the form (a platform mismatch or a file that is no image offers Force), and Commit /
 * Revert while a Mongoose OS device runs an uncommitted image. Presentational: the page passes
 * the store's state and actions in.
 */
import { useState, type ReactNode } from 'react';
import type { OtaSource } from '../../api/ota-api';
import type { BootStateView, FirmwareView, OtaJobView } from '../../api/schemas';
import { ActionErrorNotice } from '../../components/action-error';
import { formatBytes } from '../../lib/format-bytes';
import {
  firmwareLabel,
  isJobActive,
  jobPercent,
  jobSummary,
  runningFirmware,
  stateTone,
} from '../../lib/ota-format';
import type { ActionError } from '../../stores/devices-store';
import type { StartError } from '../../stores/ota-store';
import { needsCommit } from '../../stores/ota-store';
import type { UploadState } from '../../stores/firmware-store';
import '../rollouts/ota-pages.css';

export interface OtaPanelProps {
  online: boolean;
  fwId: string;
  fwVersion: string;
  library: FirmwareView[];
  jobs: OtaJobView[];
  bootState: BootStateView | null;
  starting: boolean;
  upload: UploadState | null;
  startError: StartError | null;
  acting: 'cancel' | 'commit' | 'revert' | null;
  actionError: ActionError | null;
  onStart(source: OtaSource, force: boolean): void;
  onCancel(job: string): void;
  onCommit(): void;
  onRevert(): void;
  onChange(): void;
}

export function OtaPanel(p: OtaPanelProps): ReactNode {
  const [mode, setMode] = useState<'library' | 'file'>('library');
  const [picked, setPicked] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const latest = p.jobs[0];
  const active = latest !== undefined && isJobActive(latest);
  const running = runningFirmware(p.fwId, p.library);
  const chosenFw = p.library.find((f) => f.id === picked) ?? p.library[0];
  const source: OtaSource | null =
    mode === 'file'
      ? file
        ? { file, name: file.name }
        : null
      : chosenFw
        ? { firmware: chosenFw.id }
        : null;
  const commitable = needsCommit(latest, p.bootState) && !active;

  let blocker: string | null = null;
  if (!p.online) blocker = 'The device is offline.';
  else if (active) blocker = 'An update is running.';
  else if (!source)
    blocker =
      mode === 'file'
        ? 'Choose a firmware file.'
        : 'The library is empty: upload one on the Firmware page.';

  const uploadPct =
    p.upload && p.upload.total > 0 ? Math.floor((p.upload.loaded * 100) / p.upload.total) : 0;

  return (
    <section className="card panel ota-panel" aria-labelledby="ota-title" data-testid="ota-panel">
      <header className="panel-head">
        <h2 id="ota-title">Firmware update (OTA)</h2>
      </header>
      <dl className="facts ota-facts">
        <div>
          <dt>Runs</dt>
          <dd data-testid="ota-running">
            {running ? (
              <span data-firmware={running.id}>{firmwareLabel(running)}</span>
            ) : (
              <span className="muted">{p.fwId !== '' ? 'not a library firmware' : 'unknown'}</span>
            )}
          </dd>
        </div>
        <div>
          <dt>fw_id</dt>
          <dd className="mono" data-testid="ota-fw-id">
            {p.fwId || '—'}
          </dd>
        </div>
        <div>
          <dt>fw_version</dt>
          <dd className="mono">{p.fwVersion || '—'}</dd>
        </div>
      </dl>

      {latest && (
        <div
          className={`ota-job tone-${stateTone(latest.state)}`}
          data-testid="ota-job"
          data-state={latest.state}
          data-job={latest.id}
        >
          <div className="ota-job-head">
            <span className={`pill pill-${stateTone(latest.state)}`} data-testid="ota-state">
              {latest.state.replace('_', ' ')}
            </span>
            <span className="ota-job-summary" data-testid="ota-summary">
              {jobSummary(latest)}
            </span>
            <span className="toolbar-spacer" />
            {(latest.state === 'queued' || latest.state === 'sending') && (
              <button
                type="button"
                className="btn btn-small"
                disabled={p.acting !== null}
                onClick={() => p.onCancel(latest.id)}
                data-testid="ota-cancel"
              >
                {p.acting === 'cancel' ? 'Cancelling…' : 'Cancel'}
              </button>
            )}
          </div>
          <progress
            max={100}
            value={jobPercent(latest)}
            aria-label="Update progress"
            data-testid="ota-progress"
          />
          <div className="muted small">
            {latest.total > 0 && `${formatBytes(latest.bytes)} of ${formatBytes(latest.total)}`}
            {latest.to_fw ? ` · now reports ${latest.to_fw}` : ''}
          </div>
        </div>
      )}

      {commitable && (
        <div className="notice notice-warn ota-commit" data-testid="ota-uncommitted">
          <span>
            The device runs the new image <strong>uncommitted</strong>: commit it to keep it, or
            revert to the previous one (it also reverts by itself after its commit timeout
            {p.bootState?.commit_timeout ? ` of ${p.bootState.commit_timeout} s` : ''}).
          </span>
          <span className="toolbar-spacer" />
          <button
            type="button"
            className="btn btn-small btn-primary"
            disabled={p.acting !== null || !p.online}
            onClick={p.onCommit}
            data-testid="ota-commit"
          >
            {p.acting === 'commit' ? 'Committing…' : 'Commit'}
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={p.acting !== null || !p.online}
            onClick={p.onRevert}
            data-testid="ota-revert"
          >
            {p.acting === 'revert' ? 'Reverting…' : 'Revert'}
          </button>
        </div>
      )}
      <ActionErrorNotice error={p.actionError} testId="ota-action-error" />

      <div className="ota-form">
        <div className="segmented" role="group" aria-label="Firmware source">
          <button
            type="button"
            aria-pressed={mode === 'library'}
            className={mode === 'library' ? 'active' : ''}
            onClick={() => {
              setMode('library');
              p.onChange();
            }}
          >
            From library
          </button>
          <button
            type="button"
            aria-pressed={mode === 'file'}
            className={mode === 'file' ? 'active' : ''}
            onClick={() => {
              setMode('file');
              p.onChange();
            }}
            data-testid="ota-mode-file"
          >
            From file
          </button>
        </div>
        {mode === 'library' ? (
          <select
            className="input"
            aria-label="Library firmware"
            value={chosenFw?.id ?? ''}
            onChange={(e) => {
              setPicked(e.target.value);
              p.onChange();
            }}
            data-testid="ota-firmware"
          >
            {p.library.length === 0 && <option value="">No firmware in the library</option>}
            {p.library.map((f) => (
              <option key={f.id} value={f.id}>
                {firmwareLabel(f)} · {formatBytes(f.size)}
              </option>
            ))}
          </select>
        ) : (
          <input
            type="file"
            accept=".zip,.bin"
            aria-label="Firmware file"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              p.onChange();
            }}
            data-testid="ota-file"
          />
        )}
        <button
          type="button"
          className="btn btn-primary"
          disabled={blocker !== null || p.starting}
          onClick={() => source && p.onStart(source, false)}
          data-testid="ota-start"
        >
          {p.starting ? (p.upload ? `Uploading ${uploadPct}%` : 'Starting…') : 'Update'}
        </button>
      </div>
      {blocker && !p.starting && (
        <p className="muted small" data-testid="ota-blocker">
          {blocker}
        </p>
      )}
      {p.upload && (
        <progress
          max={100}
          value={uploadPct}
          aria-label="Upload to the hub"
          className="ota-upload"
        />
      )}
      {p.startError && (
        <div
          className="notice notice-error ota-start-error"
          role="alert"
          data-testid="ota-start-error"
          data-code={p.startError.code}
        >
          <span className="toast-code">{p.startError.code || 'network'}</span>
          <span>Not started: {p.startError.message}</span>
          {p.startError.forceable && source && (
            <button
              type="button"
              className="btn btn-small btn-danger"
              disabled={p.starting}
              onClick={() => p.onStart(source, true)}
              data-testid="ota-force"
            >
              Force update
            </button>
          )}
        </div>
      )}
    </section>
  );
}
