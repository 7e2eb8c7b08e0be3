/**
 * Firmware page (PROTOCOL.md 9 `/firmware`): the library with what each image says about itself
 * (name, version, platform, format, size, ELF attached, the `fw_id` devices report once running
 * it), an upload by drag-and-drop or file picker with a progress bar, ELF attach, download and
 * delete. Refusals show on the row or under the drop zone, where the action was taken.
 */
import { useRef, useState, type ReactNode } from 'react';
import { useApp, useFirmware } from '../../app-context';
import type { FirmwareView } from '../../api/schemas';
import { ActionErrorNotice } from '../../components/action-error';
import { ConfirmDelete } from '../../components/confirm-delete';
import { UploadDropZone } from '../../components/upload-drop-zone';
import { useNow } from '../../components/use-now';
import { formatBytes } from '../../lib/format-bytes';
import { firmwareLabel } from '../../lib/ota-format';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import type { ActionError } from '../../stores/devices-store';
import '../rollouts/ota-pages.css';

/** The image and, optionally, its ELF among dropped files (ELF told apart by name or magic-less guess). */
export function splitDropped(files: readonly File[]): { image?: File; elf?: File } {
  const elf = files.find((f) => /\.elf$/i.test(f.name));
  const image = files.find((f) => f !== elf);
  return { ...(image ? { image } : {}), ...(elf ? { elf } : {}) };
}

export function FirmwareScreen(): ReactNode {
  const app = useApp();
  const a = app.firmware.getState();
  const list = useFirmware((s) => s.list);
  const loaded = useFirmware((s) => s.loaded);
  const loadError = useFirmware((s) => s.loadError);
  const upload = useFirmware((s) => s.upload);
  const uploadError = useFirmware((s) => s.uploadError);
  const lastUpload = useFirmware((s) => s.lastUpload);
  const rowErrors = useFirmware((s) => s.rowErrors);
  const busy = useFirmware((s) => s.busy);
  const [notes, setNotes] = useState('');
  const [confirm, setConfirm] = useState<string | null>(null);
  const elfPicker = useRef<HTMLInputElement>(null);
  const [elfFor, setElfFor] = useState<string | null>(null);
  const now = useNow(30_000);

  const send = (files: readonly File[]): void => {
    const { image, elf } = splitDropped(files);
    if (!image) {
      if (elf) a.clearUploadMessages();
      return;
    }
    void a
      .uploadFiles({ file: image, ...(elf ? { elf } : {}), ...(notes ? { notes } : {}) })
      .then((r) => {
        if (r) setNotes('');
      });
  };

  return (
    <main className="page page-ota" aria-labelledby="firmware-title" data-testid="firmware-page">
      <div className="toolbar">
        <h1 id="firmware-title">Firmware</h1>
        <span className="muted">
          {list.length === 1 ? '1 image' : `${list.length} images`} in the library
        </span>
        <div className="toolbar-spacer" />
        <button type="button" className="btn" onClick={() => void a.refresh()}>
          Refresh
        </button>
      </div>
      <UploadDropZone
        label="Upload firmware"
        testId="firmware"
        accept=".zip,.bin,.elf"
        multiple
        buttonText="Choose files…"
        upload={upload}
        onFiles={send}
      >
        <div className="dropzone-text">
          <strong>Drop a firmware here</strong>
          <span className="muted small">
            A Mongoose OS fw.zip or an ESP-IDF / Arduino app .bin; add its .elf to decode crashes.
          </span>
        </div>
        <input
          className="input dropzone-notes"
          placeholder="Notes (optional)"
          aria-label="Notes for the upload"
          value={notes}
          maxLength={4096}
          onChange={(e) => setNotes(e.target.value)}
        />
      </UploadDropZone>
      <ActionErrorNotice error={uploadError} testId="firmware-upload-error" />
      {lastUpload && (
        <p
          className={`notice ${lastUpload.existed ? 'notice-warn' : 'notice-ok'}`}
          role="status"
          data-testid="firmware-upload-result"
          data-existed={String(lastUpload.existed)}
        >
          {lastUpload.existed
            ? `Already in the library: ${firmwareLabel(lastUpload.firmware)} (same bytes, nothing added).`
            : `Added ${firmwareLabel(lastUpload.firmware)}.`}
        </p>
      )}
      {loadError && (
        <p className="notice notice-error" role="alert">
          Could not load the library: {loadError}
        </p>
      )}
      <section className="card panel">
        {loaded && list.length === 0 ? (
          <p className="muted" data-testid="firmware-empty">
            The library is empty. Upload a firmware to update devices over the air.
          </p>
        ) : (
          <table className="ota-table" data-testid="firmware-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th>Platform</th>
                <th>Format</th>
                <th>Size</th>
                <th>Added</th>
                <th>ELF</th>
                <th>Reports fw_id</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {list.map((f) => (
                <FirmwareRow
                  key={f.id}
                  f={f}
                  now={now}
                  busy={busy[f.id]}
                  confirming={confirm === f.id}
                  onConfirm={(yes) => setConfirm(yes ? f.id : null)}
                  onDelete={() => {
                    setConfirm(null);
                    void a.remove(f.id);
                  }}
                  onDownload={() => void a.download(f.id)}
                  onAttach={() => {
                    setElfFor(f.id);
                    elfPicker.current?.click();
                  }}
                  error={rowErrors[f.id] ?? null}
                />
              ))}
            </tbody>
          </table>
        )}
        <input
          ref={elfPicker}
          type="file"
          hidden
          accept=".elf"
          data-testid="firmware-elf-file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file && elfFor !== null) void a.attachElf(elfFor, file);
          }}
        />
      </section>
    </main>
  );
}

function FirmwareRow(props: {
  f: FirmwareView;
  now: number;
  busy: string | undefined;
  confirming: boolean;
  error: ActionError | null;
  onConfirm(yes: boolean): void;
  onDelete(): void;
  onDownload(): void;
  onAttach(): void;
}): ReactNode {
  const { f } = props;
  return (
    <>
      <tr data-testid="firmware-row" data-id={f.id} data-name={f.name}>
        <td>
          <strong>{f.name || f.id}</strong>
          {f.notes ? <div className="muted small">{f.notes}</div> : null}
          <div className="muted small mono" title={f.sha256}>
            {f.id}
          </div>
        </td>
        <td className="mono">{f.version || '—'}</td>
        <td className="mono">{f.platform || '—'}</td>
        <td>{f.format}</td>
        <td className="nowrap">{formatBytes(f.size)}</td>
        <td className="nowrap" title={absoluteTime(f.created)}>
          {relativeTime(f.created, props.now)}
        </td>
        <td data-testid="firmware-elf" data-elf={String(f.elf)}>
          {f.elf ? (
            <span className="pill pill-ok">attached</span>
          ) : (
            <button
              type="button"
              className="btn btn-small"
              disabled={props.busy !== undefined}
              onClick={props.onAttach}
            >
              {props.busy === 'elf' ? 'Attaching…' : 'Attach ELF'}
            </button>
          )}
        </td>
        <td className="mono small">{f.fw_id ?? <span className="muted">not yet</span>}</td>
        <td className="nowrap">
          <div className="row-actions">
            <button
              type="button"
              className="btn btn-small"
              disabled={props.busy !== undefined}
              onClick={props.onDownload}
            >
              {props.busy === 'download' ? 'Downloading…' : 'Download'}
            </button>
            <ConfirmDelete
              testId="firmware"
              confirming={props.confirming}
              deleting={props.busy === 'delete'}
              disabled={props.busy !== undefined}
              onConfirm={props.onConfirm}
              onDelete={props.onDelete}
            />
          </div>
        </td>
      </tr>
      {props.error && (
        <tr className="row-error">
          <td colSpan={9}>
            <ActionErrorNotice error={props.error} testId="firmware-row-error" />
          </td>
        </tr>
      )}
    </>
  );
}
