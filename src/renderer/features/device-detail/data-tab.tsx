/**
 * The device page's Data tab: the device's latest rows of `data` with a chart of their numbers
 * (a `message` of JSON is charted field by field, lib/sql-chart.ts), and its ACL `data_read` /
 * `data_write` (PROTOCOL.md 8) as editable name -> query rows with a run preview.
 */
import { useEffect, useMemo, type ReactNode } from 'react';
import type { DeviceObject } from '../../../shared/types';
import { useApp, useDeviceData } from '../../app-context';
import { ActionErrorNotice } from '../../components/action-error';
import { ResultTable } from '../../components/result-table';
import { TimeChart } from '../../components/time-chart';
import type { AclEntry, AclKind } from '../../lib/acl-preview';
import { toChartData } from '../../lib/sql-chart';
import { LATEST_QUERY, LATEST_ROWS } from '../../stores/device-data-store';
import '../data/data.css';

export function DataTab({ device }: { device: DeviceObject }): ReactNode {
  const app = useApp();
  const a = app.deviceData.getState();
  const rows = useDeviceData((s) => s.rows);
  const rowsLoading = useDeviceData((s) => s.rowsLoading);
  const rowsError = useDeviceData((s) => s.rowsError);
  const chart = useMemo(() => (rows ? toChartData(rows) : null), [rows]);

  useEffect(() => {
    app.deviceData.getState().open(device);
  }, [app, device]);
  useEffect(() => {
    void app.deviceData.getState().loadRows();
  }, [app, device.id]);

  return (
    <div className="stack" data-testid="device-data-tab">
      <section className="card panel" aria-labelledby="data-rows-title">
        <header className="panel-head">
          <h2 id="data-rows-title">Latest rows</h2>
          <span className="muted small">
            the newest {LATEST_ROWS} rows of table data for this device
          </span>
          <div className="toolbar-spacer" />
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              app.data
                .getState()
                .setQuery(LATEST_QUERY.replace('?', `'${device.id.replaceAll("'", "''")}'`));
              app.route.getState().navigate({ name: 'data' });
            }}
            data-testid="device-data-open-console"
          >
            Open in SQL console
          </button>
          <button
            type="button"
            className="btn"
            disabled={rowsLoading}
            onClick={() => void a.loadRows()}
            data-testid="device-data-refresh"
          >
            {rowsLoading ? 'Loading…' : 'Refresh'}
          </button>
        </header>
        <ActionErrorNotice error={rowsError} testId="device-data-error" />
        {rows && chart?.ok === true && (
          <TimeChart chart={chart.chart} height={240} testId="device-data-chart" />
        )}
        {rows && chart?.ok === false && rows.rows.length > 0 && (
          <p className="muted small">No chart: {chart.reason}.</p>
        )}
        {rows && (
          <ResultTable
            columns={rows.columns}
            rows={rows.rows}
            ariaLabel="Device rows"
            testId="device-data-rows"
            height={300}
          />
        )}
      </section>
      <AclEditor deviceId={device.id} />
    </div>
  );
}

function AclEditor({ deviceId }: { deviceId: string }): ReactNode {
  const app = useApp();
  const a = app.deviceData.getState();
  const read = useDeviceData((s) => s.read);
  const write = useDeviceData((s) => s.write);
  const dirty = useDeviceData((s) => s.dirty);
  const saving = useDeviceData((s) => s.saving);
  const saveError = useDeviceData((s) => s.saveError);
  const params = useDeviceData((s) => s.params);
  const previewing = useDeviceData((s) => s.previewing);
  const preview = useDeviceData((s) => s.preview);

  const table = (kind: AclKind, entries: AclEntry[], title: string, hint: ReactNode): ReactNode => (
    <div className="stack" data-testid={`acl-${kind}`}>
      <h3 className="small">
        {title} <span className="muted">{hint}</span>
      </h3>
      {entries.length === 0 && <p className="muted small">None.</p>}
      {entries.map((e, i) => (
        <div className="acl-entry" key={i} data-testid={`acl-${kind}-entry`}>
          <input
            className="input mono"
            aria-label={`${title} name ${i + 1}`}
            placeholder="name"
            value={e.name}
            spellCheck={false}
            onChange={(ev) => a.setEntry(kind, i, { ...e, name: ev.target.value })}
            data-testid="acl-name"
          />
          <textarea
            className="input mono textarea"
            aria-label={`${title} query ${i + 1}`}
            rows={3}
            placeholder={
              kind === 'data_read'
                ? "SELECT * FROM data WHERE device_id='DEVICE_ID'"
                : 'INSERT INTO data (timestamp,device_id,topic,message) VALUES (?,?,?,?)'
            }
            value={e.query}
            spellCheck={false}
            onChange={(ev) => a.setEntry(kind, i, { ...e, query: ev.target.value })}
            data-testid="acl-query"
          />
          <button
            type="button"
            className="btn"
            disabled={dirty || previewing !== null || e.name.trim() === ''}
            title={dirty ? 'Save the ACL first: the hub runs the saved query' : undefined}
            onClick={() => void a.run(kind, i)}
            data-testid="acl-run"
          >
            {previewing === `${kind}:${i}` ? 'Running…' : kind === 'data_read' ? 'Run' : 'Check'}
          </button>
          <button
            type="button"
            className="btn btn-danger-ghost"
            aria-label={`Remove ${e.name || 'query'}`}
            onClick={() => a.removeEntry(kind, i)}
            data-testid="acl-remove"
          >
            ✕
          </button>
        </div>
      ))}
      <div>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => a.addEntry(kind)}
          data-testid={`acl-add-${kind}`}
        >
          + Add query
        </button>
      </div>
    </div>
  );

  return (
    <section className="card panel" aria-labelledby="acl-data-title" data-testid="acl-data-panel">
      <header className="panel-head">
        <h2 id="acl-data-title">Data queries (ACL)</h2>
        <span className="muted small">
          DEVICE_ID and CUSTOMER_ID are replaced by the ids; ? are bound parameters
        </span>
      </header>
      <div className="acl-grid">
        {table('data_read', read, 'data_read', '(GET/POST /devices/:id/data/:name)')}
        {table('data_write', write, 'data_write', "(the device's DB.Store)")}
      </div>
      <div className="toolbar">
        <label className="small" htmlFor="acl-params">
          Run params
        </label>
        <input
          id="acl-params"
          className="input mono"
          style={{ width: 220 }}
          value={params}
          spellCheck={false}
          onChange={(e) => a.setParams(e.target.value)}
          data-testid="acl-params"
        />
        <div className="toolbar-spacer" />
        {dirty && (
          <button type="button" className="btn btn-ghost" onClick={a.resetAcl}>
            Discard changes
          </button>
        )}
        <button
          type="button"
          className="btn btn-primary"
          disabled={!dirty || saving}
          onClick={() => {
            void a.saveAcl().then((saved) => {
              if (!saved) return;
              app.toasts.getState().push({ kind: 'success', message: 'ACL saved' });
              void app.detail.getState().refresh();
            });
          }}
          data-testid="acl-save"
        >
          {saving ? 'Saving…' : 'Save ACL'}
        </button>
      </div>
      <ActionErrorNotice error={saveError} testId="acl-save-error" />
      {preview && (
        <div
          className="acl-preview"
          data-testid="acl-preview"
          data-kind={preview.kind}
          aria-live="polite"
        >
          <p className="small">
            <strong className="mono">{preview.name}</strong>{' '}
            {preview.kind === 'data_read' ? 'read query' : 'write query'} on {deviceId}
          </p>
          {'query' in preview && preview.query !== undefined && (
            <pre className="mono small" data-testid="acl-preview-query">
              {preview.query}
            </pre>
          )}
          {'compiles' in preview && (
            <p className="text-ok small" data-testid="acl-preview-ok">
              Compiles (checked with EXPLAIN; nothing was written).
            </p>
          )}
          {'error' in preview && (
            <ActionErrorNotice error={preview.error} testId="acl-preview-error" />
          )}
          {'result' in preview && (
            <ResultTable
              columns={preview.result.columns}
              rows={preview.result.rows}
              ariaLabel="Preview rows"
              testId="acl-preview-rows"
              height={220}
            />
          )}
        </div>
      )}
    </section>
  );
}
