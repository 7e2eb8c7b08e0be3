/**
 * Create a rollout (PROTOCOL.md 9 `POST /rollouts`): firmware, target (device ids and/or labels),
 * waves as counts or percentages, max failures, health window, concurrency, skip current,
 * offline wait/skip, with a live preview of how many devices each wave takes. The body is built
 * by `rolloutBody` (pure) so the preview and the create send exactly the same thing.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { RolloutBody } from '../../api/ota-api';
import type { FirmwareView } from '../../api/schemas';
import { ActionErrorNotice } from '../../components/action-error';
import { firmwareLabel } from '../../lib/ota-format';
import { parseWaves, splitLabels } from '../../lib/wave-preview';
import type { ActionError } from '../../stores/devices-store';
import type { PreviewState } from '../../stores/rollouts-store';

export interface RolloutFormValues {
  firmware: string;
  devices: string;
  labels: string;
  waves: string;
  maxFailures: string;
  healthS: string;
  concurrency: string;
  skipCurrent: boolean;
  offline: 'wait' | 'skip';
}

export const DEFAULT_FORM: RolloutFormValues = {
  firmware: '',
  devices: '',
  labels: '',
  waves: '1, 10%, 100%',
  maxFailures: '10%',
  healthS: '60',
  concurrency: '10',
  skipCurrent: true,
  offline: 'wait',
};

/** The form as a request body, or the first thing wrong with it (pure; unit-tested). */
export function rolloutBody(
  v: RolloutFormValues,
): { ok: true; body: RolloutBody } | { ok: false; error: string } {
  if (v.firmware === '') return { ok: false, error: 'Pick a firmware.' };
  const devices = v.devices
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const labels = splitLabels(v.labels);
  if (devices.length === 0 && labels.length === 0)
    return { ok: false, error: 'Name the target: device ids and/or labels.' };
  const waves = parseWaves(v.waves);
  if (!waves.ok) return waves;
  const mf = v.maxFailures.trim();
  let maxFailures: number | string;
  if (/^\d+(\.\d+)?%$/.test(mf) && Number(mf.slice(0, -1)) <= 100) maxFailures = mf;
  else if (/^\d+$/.test(mf)) maxFailures = Number(mf);
  else return { ok: false, error: 'Max failures: a count (3) or a percentage (10%).' };
  const health = Number(v.healthS);
  if (!/^\d+$/.test(v.healthS.trim()) || health > 86_400)
    return { ok: false, error: 'Health window: whole seconds, at most 86400.' };
  const conc = Number(v.concurrency);
  if (!/^\d+$/.test(v.concurrency.trim()) || conc < 1 || conc > 1000)
    return { ok: false, error: 'Concurrency: 1 to 1000 devices at a time.' };
  return {
    ok: true,
    body: {
      firmware: v.firmware,
      ...(devices.length > 0 ? { devices } : {}),
      ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
      waves: waves.waves,
      max_failures: maxFailures,
      health_s: health,
      concurrency: conc,
      skip_current: v.skipCurrent,
      offline: v.offline,
    },
  };
}

export function RolloutForm(props: {
  library: FirmwareView[];
  preview: PreviewState | null;
  previewError: string | null;
  creating: boolean;
  createError: ActionError | null;
  onPreview(body: RolloutBody): void;
  onCreate(body: RolloutBody): void;
  onChange(): void;
  onClose(): void;
}): ReactNode {
  const [v, setV] = useState<RolloutFormValues>(DEFAULT_FORM);
  const values = { ...v, firmware: v.firmware || props.library[0]?.id || '' };
  const built = rolloutBody(values);
  // The preview follows the body, not each render: asked 200 ms after the last change.
  const key = built.ok ? JSON.stringify(built.body) : '';
  const onPreview = useRef(props.onPreview);
  onPreview.current = props.onPreview;
  useEffect(() => {
    if (key === '') return;
    const body = JSON.parse(key) as RolloutBody;
    const t = setTimeout(() => onPreview.current(body), 200);
    return () => clearTimeout(t);
  }, [key]);
  const set = <K extends keyof RolloutFormValues>(k: K, value: RolloutFormValues[K]): void => {
    setV({ ...v, [k]: value });
    props.onChange();
  };
  const text = (
    k: keyof RolloutFormValues,
    label: string,
    hint: string,
    testId: string,
  ): ReactNode => (
    <label className="field">
      {label}
      <input
        className="input"
        value={String(values[k])}
        onChange={(e) => set(k, e.target.value as never)}
        data-testid={testId}
      />
      <span className="muted small">{hint}</span>
    </label>
  );

  return (
    <section
      className="card panel rollout-form"
      aria-labelledby="rollout-form-title"
      data-testid="rollout-form"
    >
      <header className="panel-head">
        <h2 id="rollout-form-title">New rollout</h2>
        <button type="button" className="btn btn-ghost btn-small" onClick={props.onClose}>
          Close
        </button>
      </header>
      <div className="form-grid">
        <label className="field">
          Firmware
          <select
            className="input"
            value={values.firmware}
            onChange={(e) => set('firmware', e.target.value)}
            data-testid="rollout-firmware"
          >
            {props.library.length === 0 && <option value="">The library is empty</option>}
            {props.library.map((f) => (
              <option key={f.id} value={f.id}>
                {firmwareLabel(f)}
              </option>
            ))}
          </select>
        </label>
        {text(
          'labels',
          'Labels',
          'Devices with any of these tags.labels (comma-separated)',
          'rollout-labels',
        )}
        {text('devices', 'Device ids', 'Comma or space separated', 'rollout-devices')}
        {text('waves', 'Waves', 'Counts or percentages: 1, 10%, 100%', 'rollout-waves')}
        {text(
          'maxFailures',
          'Max failures',
          'Pauses the rollout: a count or a percentage',
          'rollout-max-failures',
        )}
        {text(
          'healthS',
          'Health window (s)',
          'Online this long on the new firmware = updated',
          'rollout-health',
        )}
        {text(
          'concurrency',
          'Concurrency',
          'Devices updating at the same time',
          'rollout-concurrency',
        )}
        <label className="field">
          Offline devices
          <select
            className="input"
            value={values.offline}
            onChange={(e) => set('offline', e.target.value === 'skip' ? 'skip' : 'wait')}
            data-testid="rollout-offline"
          >
            <option value="wait">Wait for them</option>
            <option value="skip">Skip them</option>
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={values.skipCurrent}
            onChange={(e) => set('skipCurrent', e.target.checked)}
          />
          Skip devices already on this firmware
        </label>
      </div>
      <div className="wave-preview" data-testid="rollout-preview" aria-live="polite">
        {!built.ok ? (
          <span className="muted">{built.error}</span>
        ) : props.preview ? (
          <>
            <strong data-testid="rollout-preview-total">{props.preview.total} devices</strong>
            <span className="muted"> in {props.preview.waves.length} waves:</span>
            <ol className="wave-chips">
              {props.preview.waves.map((n, i) => (
                <li key={i} data-testid="rollout-preview-wave">
                  <span className="muted small">wave {i + 1}</span> {n}
                </li>
              ))}
            </ol>
            <span className="muted small">
              {props.preview.skippedCurrent > 0 &&
                `${props.preview.skippedCurrent} already on it · `}
              {props.preview.offline > 0 &&
                `${props.preview.offline} offline (${values.offline === 'wait' ? 'waited for' : 'skipped'}) · `}
              {props.preview.source === 'hub'
                ? 'counted by the hub'
                : 'estimated from the device list'}
            </span>
          </>
        ) : (
          <span className="muted">Counting…</span>
        )}
        {props.previewError && <span className="form-error">{props.previewError}</span>}
      </div>
      <ActionErrorNotice error={props.createError} testId="rollout-create-error" />
      <div className="row-actions">
        <button
          type="button"
          className="btn btn-primary"
          disabled={!built.ok || props.creating}
          onClick={() => built.ok && props.onCreate(built.body)}
          data-testid="rollout-create"
        >
          {props.creating ? 'Starting…' : 'Start rollout'}
        </button>
      </div>
    </section>
  );
}
