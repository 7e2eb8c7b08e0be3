/**
 * The Data page: an SQL console on the account database (PROTOCOL.md 4 `/sql/exec`). Ctrl+Enter
 * runs; past queries come back from the history list; the result shows as a virtualized table,
 * as a chart when it has a time column and numbers (lib/sql-chart.ts), and leaves as CSV or JSON.
 * The whole database downloads as a streamed SQLite snapshot (`/sql/db`).
 */
import { useMemo, type ReactNode } from 'react';
import { useApp, useData } from '../../app-context';
import { ActionErrorNotice } from '../../components/action-error';
import { ResultTable } from '../../components/result-table';
import { TimeChart } from '../../components/time-chart';
import { toChartData } from '../../lib/sql-chart';
import './data.css';

export const EXAMPLE_QUERIES = [
  "SELECT timestamp, json_extract(message,'$.temp') AS temp, json_extract(message,'$.humidity') AS humidity FROM data WHERE topic='data' ORDER BY timestamp DESC LIMIT 5000",
  'SELECT device_id, COUNT(*) AS rows, MAX(timestamp) AS last FROM data GROUP BY device_id ORDER BY rows DESC',
  "SELECT name, sql FROM sqlite_master WHERE type IN ('table','index')",
];

export function DataScreen(): ReactNode {
  const app = useApp();
  const a = app.data.getState();
  const query = useData((s) => s.query);
  const running = useData((s) => s.running);
  const result = useData((s) => s.result);
  const error = useData((s) => s.error);
  const ms = useData((s) => s.ms);
  const history = useData((s) => s.history);
  const resultSeq = useData((s) => s.resultSeq);
  const chart = useMemo(() => (result ? toChartData(result) : null), [result]);
  const dbUrl = a.dbUrl();

  return (
    <main
      className="page page-detail data-page"
      aria-labelledby="data-title"
      data-testid="data-page"
    >
      <div className="toolbar">
        <h1 id="data-title">Data</h1>
        <span className="muted small">
          SQL on the account database (table data: timestamp, device_id, topic, message)
        </span>
        <div className="toolbar-spacer" />
        {dbUrl !== null && (
          <a className="btn" href={dbUrl} download data-testid="data-download-db">
            Download database
          </a>
        )}
      </div>
      <section className="card panel" aria-label="SQL console">
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void a.run();
          }}
        >
          <div className="field">
            <div className="sql-label-row">
              <label htmlFor="sql-query">Query</label>
              <select
                className="input sql-history"
                aria-label="Past queries"
                value=""
                onChange={(e) => {
                  if (e.target.value !== '') a.setQuery(e.target.value);
                }}
                data-testid="sql-history"
              >
                <option value="">History ({history.length})…</option>
                {history.map((q) => (
                  <option key={q} value={q}>
                    {q.length > 110 ? `${q.slice(0, 110)}…` : q}
                  </option>
                ))}
                <optgroup label="Examples">
                  {EXAMPLE_QUERIES.filter((q) => !history.includes(q)).map((q) => (
                    <option key={q} value={q}>
                      {q.length > 110 ? `${q.slice(0, 110)}…` : q}
                    </option>
                  ))}
                </optgroup>
              </select>
            </div>
            <textarea
              id="sql-query"
              className="input mono textarea sql-editor"
              rows={5}
              spellCheck={false}
              value={query}
              onChange={(e) => a.setQuery(e.target.value)}
              onKeyDown={(e) => {
                if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
                  e.preventDefault();
                  void a.run();
                }
              }}
              data-testid="sql-editor"
            />
          </div>
          <div className="toolbar">
            <button
              type="submit"
              className="btn btn-primary"
              disabled={running}
              data-testid="sql-run"
            >
              {running ? 'Running…' : 'Run'}
            </button>
            <span className="muted small">Ctrl+Enter runs</span>
            <div className="toolbar-spacer" />
            {result && !error && (
              <span className="small" data-testid="sql-status" aria-live="polite">
                {result.rows.length.toLocaleString()} row{result.rows.length === 1 ? '' : 's'}
                {ms !== null && <span className="muted"> in {ms} ms</span>}
              </span>
            )}
            {result?.truncated && !error && (
              <span
                className="pill pill-warn"
                data-testid="sql-truncated"
                title="The hub stopped at its row or byte cap: add a LIMIT or aggregate"
              >
                truncated
              </span>
            )}
            <button
              type="button"
              className="btn"
              disabled={!result}
              onClick={a.exportCsv}
              data-testid="sql-export-csv"
            >
              CSV
            </button>
            <button
              type="button"
              className="btn"
              disabled={!result}
              onClick={a.exportJson}
              data-testid="sql-export-json"
            >
              JSON
            </button>
          </div>
        </form>
        <ActionErrorNotice error={error} testId="sql-error" />
      </section>
      {result && chart?.ok === true && (
        <section className="card panel" aria-label="Chart" data-testid="sql-chart-panel">
          <header className="panel-head">
            <h2>Chart</h2>
            <span className="muted small">
              {chart.chart.labels.join(', ')} over {chart.chart.timeColumn}
              {chart.chart.skipped > 0 &&
                ` (${chart.chart.skipped} rows without a readable time left out)`}
            </span>
          </header>
          <TimeChart chart={chart.chart} testId="sql-chart" />
        </section>
      )}
      {result && (
        <section className="result-section" aria-label="Result">
          {error && (
            <p className="muted small" data-testid="sql-previous">
              The result of the last query that ran:
            </p>
          )}
          {chart?.ok === false && result.rows.length > 0 && (
            <p className="muted small" data-testid="sql-chart-hint">
              No chart: {chart.reason}.
            </p>
          )}
          <ResultTable
            key={resultSeq}
            columns={result.columns}
            rows={result.rows}
            ariaLabel="Query result"
            testId="sql-result"
            height={480}
          />
        </section>
      )}
    </main>
  );
}
