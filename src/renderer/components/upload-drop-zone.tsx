/**
 * The upload card of the library pages (Firmware, Apps): a drop zone with a file picker button,
 * then the running upload's progress bar. The page says what to drop (children, before the
 * button) and what happens with the files (`onFiles`); nothing is taken while one upload runs.
 */
import { useRef, useState, type ReactNode } from 'react';
import { formatBytes } from '../lib/format-bytes';

export interface UploadInProgress {
  name: string;
  loaded: number;
  total: number;
}

export function UploadDropZone(props: {
  /** Accessible name of the zone, e.g. "Upload firmware". */
  label: string;
  /** Prefix of the test ids: `<id>-dropzone`, `<id>-file`, `<id>-upload-progress`. */
  testId: string;
  accept: string;
  multiple?: boolean;
  buttonText: string;
  upload: UploadInProgress | null;
  onFiles: (files: File[]) => void;
  children: ReactNode;
}): ReactNode {
  const { upload, onFiles, testId } = props;
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const pct = upload && upload.total > 0 ? Math.floor((upload.loaded * 100) / upload.total) : 0;
  return (
    <>
      <section
        className={`card dropzone ${dragging ? 'dropzone-over' : ''}`}
        aria-label={props.label}
        data-testid={`${testId}-dropzone`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          if (!upload) onFiles(Array.from(e.dataTransfer.files));
        }}
      >
        {props.children}
        <button
          type="button"
          className="btn btn-primary"
          disabled={upload !== null}
          onClick={() => picker.current?.click()}
        >
          {props.buttonText}
        </button>
        <input
          ref={picker}
          type="file"
          multiple={props.multiple ?? false}
          hidden
          accept={props.accept}
          data-testid={`${testId}-file`}
          onChange={(e) => {
            onFiles(Array.from(e.target.files ?? []));
            e.target.value = '';
          }}
        />
      </section>
      {upload && (
        <div className="upload-progress" data-testid={`${testId}-upload-progress`}>
          <span className="mono">{upload.name}</span>
          <progress max={100} value={pct} aria-label={`Uploading ${upload.name}`} />
          <span className="muted small">
            {pct}% of {formatBytes(upload.total)}
          </span>
        </div>
      )}
    </>
  );
}
