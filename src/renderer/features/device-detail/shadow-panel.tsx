/**
 * The device shadow (PROTOCOL.md 3): view desired / reported / delta / the whole document, and
 * edit `desired` as JSON. Saving sends only what changed (lib/desired-patch.ts) at the version the
 * edit started from, so a concurrent change shows as a conflict instead of being overwritten.
 */
import { useState, type ReactNode } from 'react';
import type { DeviceObject, Json } from '../../../shared/types';
import { JsonBlock } from '../../components/json-block';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import type { ShadowConflict } from '../../stores/device-detail-store';

type View = 'reported' | 'desired' | 'delta' | 'document';

export interface ShadowPanelProps {
  device: DeviceObject;
  now: number;
  draft: string;
  draftDirty: boolean;
  draftError: string | null;
  remoteChanged: boolean;
  saving: boolean;
  conflict: ShadowConflict | null;
  onDraft(text: string): void;
  onSave(): void;
  onReset(): void;
  onLoadLatest(): void;
}

const VIEWS: { key: View; label: string }[] = [
  { key: 'reported', label: 'Reported' },
  { key: 'desired', label: 'Desired' },
  { key: 'delta', label: 'Delta' },
  { key: 'document', label: 'Document' },
];

export function ShadowPanel(props: ShadowPanelProps): ReactNode {
  const [view, setView] = useState<View>('reported');
  const shadow = props.device.shadow;
  const shown: Json = view === 'document' ? (shadow as unknown as Json) : shadow.state[view];
  const deltaCount = Object.keys(shadow.state.delta).length;

  return (
    <section className="card panel" aria-labelledby="shadow-title" data-testid="shadow-panel">
      <header className="panel-head">
        <h2 id="shadow-title">Shadow</h2>
        <span
          className="muted small"
          data-testid="shadow-version"
          title={absoluteTime(shadow.timestamp)}
        >
          version {shadow.version}
          {shadow.timestamp > 0 && ` · changed ${relativeTime(shadow.timestamp, props.now)}`}
        </span>
      </header>
      <div className="segmented" role="tablist" aria-label="Shadow section">
        {VIEWS.map((v) => (
          <button
            key={v.key}
            type="button"
            role="tab"
            aria-selected={view === v.key}
            className={view === v.key ? 'active' : ''}
            onClick={() => setView(v.key)}
            data-testid={`shadow-tab-${v.key}`}
          >
            {v.label}
            {v.key === 'delta' && deltaCount > 0 && (
              <span className="pill pill-warn">{deltaCount}</span>
            )}
          </button>
        ))}
      </div>
      <JsonBlock value={shown} testId="shadow-json" label={`Shadow ${view}`} />

      <form
        className="stack editor"
        onSubmit={(e) => {
          e.preventDefault();
          props.onSave();
        }}
      >
        <label htmlFor="desired-editor">Edit desired state</label>
        <textarea
          id="desired-editor"
          className="input mono textarea"
          rows={8}
          spellCheck={false}
          value={props.draft}
          onChange={(e) => props.onDraft(e.target.value)}
          onKeyDown={(e) => {
            if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
              e.preventDefault();
              props.onSave();
            }
          }}
          aria-invalid={props.draftError !== null}
          aria-describedby="desired-help"
          data-testid="desired-editor"
        />
        <p id="desired-help" className="muted small">
          JSON object. Removed keys are deleted on the device; Ctrl+Enter saves.
        </p>
        {props.draftError !== null && (
          <p className="form-error" role="alert" data-testid="desired-error">
            {props.draftError}
          </p>
        )}
        {props.conflict !== null && (
          <div className="notice notice-error" role="alert" data-testid="shadow-conflict">
            <strong>{props.conflict.code}</strong> {props.conflict.message}
            <button type="button" className="btn btn-small" onClick={props.onLoadLatest}>
              Load latest
            </button>
          </div>
        )}
        {props.remoteChanged && props.conflict === null && (
          <p className="notice notice-warn small" data-testid="shadow-remote-changed">
            The desired state changed on the hub while you were editing.
          </p>
        )}
        <div className="row-actions">
          <button
            type="button"
            className="btn"
            disabled={!props.draftDirty || props.saving}
            onClick={props.onReset}
          >
            Reset
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={props.saving || props.draftError !== null || !props.draftDirty}
            data-testid="save-desired"
          >
            {props.saving ? 'Saving…' : 'Save desired'}
          </button>
        </div>
      </form>
    </section>
  );
}
