/**
 * The flash form: port, chip, baud, erase/verify, and one row per firmware file with its flash
 * address (empty: the hub decides, e.g. a single app image goes to 0x10000). Presentational: the
 * page passes the submit action and the hub's refusal in.
 */
import { useState, type ReactNode } from 'react';
import type { FlashFileInput, FlashOptionsInput, PortView } from '../../api/flasher-api';
import type { SubmitError } from './flasher-store';
import { formatBytes, ownerLabel, parseAddressText } from './job-format';
import { BaudSelect, PortSelect } from './port-fields';

const CHIPS = [
  'auto',
  'esp32',
  'esp32s2',
  'esp32s3',
  'esp32c3',
  'esp32c6',
  'esp32h2',
  'esp8266',
  'stm32',
];
const BAUDS = [115200, 230400, 460800, 921600];

interface FileRow {
  file: File;
  address: string;
}

export function FlashForm(props: {
  ports: PortView[];
  submitting: boolean;
  submitError: SubmitError | null;
  onChange(): void;
  onSubmit(files: FlashFileInput[], options: FlashOptionsInput): void;
}): ReactNode {
  const [port, setPort] = useState('');
  const [chip, setChip] = useState('auto');
  const [baud, setBaud] = useState(460800);
  const [eraseAll, setEraseAll] = useState(false);
  const [verify, setVerify] = useState(true);
  const [rows, setRows] = useState<FileRow[]>([]);
  // The user's pick while it is still listed; else the first free port.
  const listed = props.ports.some((p) => p.path === port);
  const chosenPort = listed ? port : (props.ports.find((p) => !p.owner)?.path ?? '');
  const chosen = props.ports.find((p) => p.path === chosenPort);
  const badRow = rows.find((r) => parseAddressText(r.address) === null);
  const change = <T,>(set: (v: T) => void) => {
    return (v: T): void => {
      set(v);
      props.onChange();
    };
  };

  const submit = (): void => {
    // Stick to this port: once it is busy with the job, the default must not jump to another board.
    setPort(chosenPort);
    const files: FlashFileInput[] = rows.map((r) => {
      const address = parseAddressText(r.address);
      return {
        file: r.file,
        name: r.file.name,
        ...(typeof address === 'number' ? { address } : {}),
      };
    });
    const options: FlashOptionsInput = {
      port: chosenPort,
      baud,
      verify,
      ...(chip !== 'auto' && { chip }),
      ...(eraseAll && { eraseAll }),
    };
    props.onSubmit(files, options);
  };

  let blocker: string | null = null;
  if (props.ports.length === 0) blocker = 'No serial port to flash: plug a board in, then Refresh.';
  else if (chosenPort === '') blocker = 'Every port is in use: wait for a job to finish.';
  else if (chosen?.owner) blocker = `${chosenPort} is in use by ${ownerLabel(chosen.owner)}.`;
  else if (rows.length === 0) blocker = 'Choose a firmware file.';

  return (
    <section className="card panel" aria-labelledby="flash-form-title">
      <header className="panel-head">
        <h2 id="flash-form-title">Flash firmware</h2>
      </header>
      <div className="flasher-form">
        <PortSelect
          ports={props.ports}
          value={chosenPort}
          onChange={change(setPort)}
          testId="flash-port"
          disableBusy
        />
        <label className="field">
          Chip
          <select
            className="input"
            value={chip}
            onChange={(e) => change(setChip)(e.target.value)}
            data-testid="flash-chip"
          >
            {CHIPS.map((c) => (
              <option key={c} value={c}>
                {c === 'auto' ? 'Detect (ESP)' : c}
              </option>
            ))}
          </select>
        </label>
        <BaudSelect bauds={BAUDS} value={baud} onChange={change(setBaud)} testId="flash-baud" />
        <label className="check">
          <input
            type="checkbox"
            checked={eraseAll}
            onChange={(e) => change(setEraseAll)(e.target.checked)}
          />
          Erase whole flash first
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={verify}
            onChange={(e) => change(setVerify)(e.target.checked)}
          />
          Verify after writing
        </label>
      </div>
      <div className="stack">
        <label className="field">
          Firmware files
          <span className="muted small">
            .bin images with their flash addresses, an Intel .hex, a Mongoose OS fw.zip, or an ESP
            Web Tools manifest.json with its images
          </span>
          <input
            className="flasher-file"
            type="file"
            multiple
            accept=".bin,.hex,.zip,.json"
            data-testid="flash-files"
            onChange={(e) => {
              const picked = Array.from(e.target.files ?? []);
              change(setRows)(picked.map((file) => ({ file, address: '' })));
            }}
          />
        </label>
        {rows.length > 0 && (
          <table className="flasher-table flasher-files" data-testid="flash-file-rows">
            <thead>
              <tr>
                <th>File</th>
                <th>Size</th>
                <th>Flash address</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${r.file.name}-${i}`}>
                  <td className="mono">{r.file.name}</td>
                  <td className="muted">{formatBytes(r.file.size)}</td>
                  <td>
                    <input
                      className="input mono flasher-address"
                      placeholder="auto"
                      aria-label={`Flash address of ${r.file.name}`}
                      aria-invalid={parseAddressText(r.address) === null}
                      value={r.address}
                      data-testid="flash-address"
                      onChange={(e) =>
                        change(setRows)(
                          rows.map((x, j) => (j === i ? { ...x, address: e.target.value } : x)),
                        )
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {rows.length > 0 && (
          <p className="muted small">
            Leave the address empty to let the hub decide (a single app image goes to 0x10000; .hex,
            fw.zip and manifests carry their own).
          </p>
        )}
        {badRow && (
          <p className="form-error">{`"${badRow.address}" is not an address (use 0x1000 or 4096)`}</p>
        )}
        {props.submitError && (
          <div className="notice notice-error flasher-error" role="alert" data-testid="flash-error">
            <span className="flasher-code">{props.submitError.code || 'network'}</span>
            <span>Not flashed: {props.submitError.message}</span>
            {props.submitError.hint && (
              <span className="flasher-hint" data-testid="flash-error-hint">
                {props.submitError.hint}
              </span>
            )}
          </div>
        )}
        <div className="row-actions flasher-actions">
          {blocker && (
            <span className="muted small" data-testid="flash-blocker">
              {blocker}
            </span>
          )}
          <button
            type="button"
            className="btn btn-primary"
            disabled={props.submitting || blocker !== null || badRow !== undefined}
            onClick={submit}
            data-testid="flash-submit"
          >
            {props.submitting ? 'Uploading…' : 'Flash'}
          </button>
        </div>
      </div>
    </section>
  );
}
