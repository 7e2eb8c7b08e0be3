/**
 * The device page's ACL tab (PROTOCOL.md 8): what a customer holding the device's public key may
 * do, as a form and as raw JSON of the whole ACL (kept in sync, stores/device-acl-store.ts), with a
 * live preview of every leaf of the device's current shadow marked readable / writable by the
 * hub's own matching (lib/shadow-access.ts). `data_read` / `data_write` are edited in the Data tab.
 */
import { useEffect, useMemo, type ReactNode } from 'react';
import type { DeviceObject } from '../../../shared/types';
import { useApp, useDeviceAcl } from '../../app-context';
import { ActionErrorNotice } from '../../components/action-error';
import { generatePublicKey } from '../../lib/acl-form';
import { shadowAccess } from '../../lib/shadow-access';
import '../customers/customer-pages.css';

const count = (v: unknown): number =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).length : 0;

const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
};

export function AclTab({
  device,
  onOpenData,
}: {
  device: DeviceObject;
  onOpenData(): void;
}): ReactNode {
  const app = useApp();
  const a = app.deviceAcl.getState();
  const form = useDeviceAcl((s) => s.form);
  const draft = useDeviceAcl((s) => s.draft);
  const text = useDeviceAcl((s) => s.text);
  const textError = useDeviceAcl((s) => s.textError);
  const dirty = useDeviceAcl((s) => s.dirty);
  const saving = useDeviceAcl((s) => s.saving);
  const saveError = useDeviceAcl((s) => s.saveError);
  const access = useMemo(() => shadowAccess(device.shadow, draft), [device.shadow, draft]);

  useEffect(() => {
    app.deviceAcl.getState().open(device);
  }, [app, device]);

  const save = (): void => {
    void a.save().then((saved) => {
      if (!saved) return;
      app.toasts.getState().push({ kind: 'success', message: 'ACL saved' });
      void app.detail.getState().refresh();
    });
  };

  return (
    <div className="acl-layout" data-testid="device-acl-tab">
      <section className="card panel stack" aria-labelledby="acl-form-title">
        <header className="panel-head">
          <h2 id="acl-form-title">Customer access</h2>
          <span className="muted small">who holds the public key, and what they may touch</span>
        </header>
        <div className="acl-field">
          <label htmlFor="acl-public-key">Public key</label>
          <div className="copy-row">
            <input
              id="acl-public-key"
              className="input mono"
              value={form.public_key}
              placeholder="empty: customer access off"
              spellCheck={false}
              onChange={(e) => a.setField('public_key', e.target.value)}
              data-testid="acl-public-key"
            />
            <button
              type="button"
              className="btn"
              onClick={() =>
                a.setField(
                  'public_key',
                  generatePublicKey((b) => crypto.getRandomValues(b)),
                )
              }
              data-testid="acl-key-generate"
            >
              Generate
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              disabled={form.public_key === ''}
              onClick={() => a.setField('public_key', '')}
              data-testid="acl-key-clear"
            >
              Clear
            </button>
          </div>
          <span className="muted small">
            Customers linked to this key reach the device through{' '}
            <span className="mono">/api/v2/m/device</span>.
          </span>
        </div>
        <PatternField
          field="shadow_read"
          value={form.shadow_read}
          placeholder={'^\\.state\\.reported\\.'}
          onChange={(v) => a.setField('shadow_read', v)}
        >
          Regexes, one per line, searched in each leaf path (
          <span className="mono">.state.reported.on</span>).
        </PatternField>
        <PatternField
          field="shadow_write"
          value={form.shadow_write}
          placeholder={'^\\.state\\.desired\\.on$'}
          onChange={(v) => a.setField('shadow_write', v)}
        >
          A write is refused whole unless every leaf it sets matches one of these.
        </PatternField>
        <div className="acl-field">
          <label htmlFor="acl-rpc">rpc</label>
          <input
            id="acl-rpc"
            className="input mono"
            value={form.rpc}
            placeholder="Sys.Reboot, MyDevice.*"
            spellCheck={false}
            onChange={(e) => a.setField('rpc', e.target.value)}
            data-testid="acl-rpc"
          />
          <span className="muted small">Method globs separated by commas; * matches anything.</span>
        </div>
        <p className="small">
          <span data-testid="acl-data-count">
            {count(draft.data_read)} data_read / {count(draft.data_write)} data_write queries
          </span>{' '}
          —{' '}
          <button type="button" className="link-button" onClick={onOpenData}>
            edit them in the Data tab
          </button>
        </p>
        <div className="acl-field">
          <label htmlFor="acl-raw">Raw ACL (JSON)</label>
          <textarea
            id="acl-raw"
            className="input mono textarea"
            rows={10}
            value={text}
            spellCheck={false}
            aria-invalid={textError !== null}
            onChange={(e) => a.setText(e.target.value)}
            data-testid="acl-raw"
          />
          {textError && (
            <span className="form-error" role="alert" data-testid="acl-raw-error">
              {textError}
            </span>
          )}
        </div>
        <div className="toolbar">
          <div className="toolbar-spacer" />
          {dirty && (
            <button type="button" className="btn btn-ghost" onClick={a.reset}>
              Discard changes
            </button>
          )}
          <button
            type="button"
            className="btn btn-primary"
            disabled={!dirty || saving || textError !== null}
            onClick={save}
            data-testid="acl-tab-save"
          >
            {saving ? 'Saving…' : 'Save ACL'}
          </button>
        </div>
        <ActionErrorNotice error={saveError} testId="acl-tab-save-error" />
      </section>
      <section
        className="card panel stack"
        aria-labelledby="acl-preview-title"
        data-testid="acl-access-preview"
        data-off={String(access.off)}
      >
        <header className="panel-head">
          <h2 id="acl-preview-title">What a customer sees</h2>
          <span className="muted small">the current shadow, leaf by leaf, with this draft</span>
        </header>
        {access.off && (
          <p className="notice notice-warn" data-testid="acl-access-off">
            No public key: customer access is off, whatever the patterns allow.
          </p>
        )}
        {access.problems.map((p, i) => (
          <p
            key={i}
            className="notice notice-error"
            role="alert"
            data-testid="acl-pattern-problem"
            data-field={p.field}
            data-pattern={p.pattern}
          >
            <span className="mono">{p.field}</span> pattern{' '}
            <span className="mono">{p.pattern}</span> is invalid ({p.reason}): the hub will refuse
            to save it
          </p>
        ))}
        {access.leaves.length === 0 ? (
          <p className="muted small">The shadow has no leaves yet.</p>
        ) : (
          <table className="acl-leaves" data-testid="acl-leaves">
            <thead>
              <tr>
                <th>Leaf</th>
                <th>Value</th>
                <th>Read</th>
                <th>Write</th>
              </tr>
            </thead>
            <tbody>
              {access.leaves.map((l) => (
                <tr
                  key={l.path}
                  data-testid="acl-leaf"
                  data-path={l.path}
                  data-read={String(l.read)}
                  data-write={String(l.write || l.writeVia !== null)}
                  className={l.read ? '' : 'acl-hidden'}
                >
                  <td className="mono small">{l.path}</td>
                  <td className="mono small muted">{short(l.value)}</td>
                  <td>
                    {l.read ? (
                      <span className="pill pill-ok">read</span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="small">
                    {l.write ? (
                      <span className="pill pill-ok">write</span>
                    ) : l.writeVia !== null ? (
                      <span className="pill pill-ok" title={`by writing ${l.writeVia}`}>
                        via desired
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

/** One regex list of the ACL (`shadow_read` / `shadow_write`): a pattern per line. */
function PatternField(props: {
  field: 'shadow_read' | 'shadow_write';
  value: string;
  placeholder: string;
  onChange: (value: string) => void;
  children: ReactNode;
}): ReactNode {
  const id = `acl-${props.field.replace('_', '-')}`;
  return (
    <div className="acl-field">
      <label htmlFor={id}>{props.field}</label>
      <textarea
        id={id}
        className="input mono textarea"
        rows={2}
        value={props.value}
        placeholder={props.placeholder}
        spellCheck={false}
        onChange={(e) => props.onChange(e.target.value)}
        data-testid={id}
      />
      <span className="muted small">{props.children}</span>
    </div>
  );
}
