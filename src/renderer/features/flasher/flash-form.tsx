/**
 * The flash form: port, chip, baud, erase/verify, and one row per firmware file with its flash
 * address (empty: the hub decides, e.g. a single app image goes to 0x10000). Presentational: the
 * page passes the submit action in.
 */
import { useState, type ReactNode } from 'react';
import type { FlashFileInput, FlashOptionsInput, PortView } from '../../api/flasher-api';
import { parseAddressText } from './job-format';

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
  onSubmit(files: FlashFileInput[], options: FlashOptionsInput): void;
}): ReactNode {
  const [port, setPort] = useState('');
  const [chip, setChip] = useState('auto');
  const [baud, setBaud] = useState(460800);
  const [eraseAll, setEraseAll] = useState(false);
  const [verify, setVerify] = useState(true);
  const [rows, setRows] = useState<FileRow[]>([]);
  const chosenPort = port || props.ports.find((p) => !p.owner)?.path || '';
  const badRow = rows.find((r) => parseAddressText(r.address) === null);

  const submit = (): void => {
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

  return (
    <section className="panel" aria-label="Flash firmware">
      <div className="panel-head">
        <h2>Flash firmware</h2>
      </div>
      <div className="flasher-form">
        <label className="field">
          Port
          <select
            className="input"
            value={chosenPort}
            onChange={(e) => setPort(e.target.value)}
            data-testid="flash-port"
          >
            {props.ports.map((p) => (
              <option key={p.path} value={p.path} disabled={p.owner !== null}>
                {p.path} {p.owner ? `(busy: ${p.owner.kind})` : ''}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Chip
          <select className="input" value={chip} onChange={(e) => setChip(e.target.value)}>
            {CHIPS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Baud
          <select className="input" value={baud} onChange={(e) => setBaud(Number(e.target.value))}>
            {BAUDS.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <input
            type="checkbox"
            checked={eraseAll}
            onChange={(e) => setEraseAll(e.target.checked)}
          />{' '}
          Erase all
        </label>
        <label className="field">
          <input type="checkbox" checked={verify} onChange={(e) => setVerify(e.target.checked)} />{' '}
          Verify
        </label>
      </div>
      <div className="stack">
        <label className="field">
          Firmware files (.bin, .hex, fw.zip, manifest.json)
          <input
            type="file"
            multiple
            data-testid="flash-files"
            onChange={(e) => {
              const picked = Array.from(e.target.files ?? []);
              setRows(picked.map((file) => ({ file, address: '' })));
            }}
          />
        </label>
        {rows.map((r, i) => (
          <div key={`${r.file.name}-${i}`} className="copy-row">
            <span className="mono">{r.file.name}</span>
            <span className="muted small">{r.file.size} bytes</span>
            <input
              className="input"
              placeholder="address, e.g. 0x10000"
              aria-label={`Flash address of ${r.file.name}`}
              value={r.address}
              onChange={(e) =>
                setRows(rows.map((x, j) => (j === i ? { ...x, address: e.target.value } : x)))
              }
            />
          </div>
        ))}
        {badRow && (
          <p className="form-error">{`"${badRow.address}" is not an address (use 0x1000 or 4096)`}</p>
        )}
        <div className="row-actions">
          <button
            type="button"
            className="btn btn-primary"
            disabled={
              props.submitting || rows.length === 0 || chosenPort === '' || badRow !== undefined
            }
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
