/**
 * One rollout: state and counts, a live progress bar per wave, pause / resume / abort (with "roll
 * back the updated devices" when the hub offers it) / retry failed, and the per-device table with
 * states and failure reasons (virtualized: a rollout may hold thousands of devices).
 */
import { useState, type ReactNode } from 'react';
import { useApp, useRollouts, useRoute } from '../../app-context';
import type { RolloutDeviceView } from '../../api/schemas';
import { ActionErrorNotice } from '../../components/action-error';
import { VirtualList } from '../../components/virtual-list';
import { jobStateLabel, stateTone, waveProgress } from '../../lib/ota-format';
import './ota-pages.css';

const ROW_HEIGHT = 36;

export function RolloutDetail({ id }: { id: string }): ReactNode {
  const app = useApp();
  const a = app.rollouts.getState();
  const navigate = useRoute((s) => s.navigate);
  const r = useRollouts((s) => s.detail);
  const detailError = useRollouts((s) => s.detailError);
  const acting = useRollouts((s) => s.acting);
  const actionError = useRollouts((s) => s.actionError);
  const [confirmAbort, setConfirmAbort] = useState(false);
  const [rollback, setRollback] = useState(true);

  const back = (
    <a
      href="#/rollouts"
      className="back-link"
      onClick={(e) => {
        e.preventDefault();
        navigate({ name: 'rollouts' });
      }}
    >
      ← Rollouts
    </a>
  );
  if (!r || r.id !== id) {
    return (
      <main className="page page-ota">
        {back}
        {detailError ? (
          <p className="notice notice-error" role="alert" data-testid="rollout-missing">
            Could not load rollout {id}: {detailError}
          </p>
        ) : (
          <p className="muted">Loading {id}…</p>
        )}
      </main>
    );
  }
  const devices = r.devices ?? [];
  const failedCount = devices.filter(
    (d) => d.state === 'failed' || d.state === 'rolled_back',
  ).length;
  const ended = r.state === 'completed' || r.state === 'aborted';
  // Abort can send the previous firmware back to the devices that took the new one (the hub
  // answers why not when it cannot); a rollback rollout itself has nothing to roll back to.
  const offersRollback = r.rollback_of === undefined && r.counts.done > 0;

  return (
    <main
      className="page page-ota"
      aria-labelledby="rollout-title"
      data-testid="rollout-detail"
      data-state={r.state}
    >
      {back}
      <div className="toolbar">
        <h1 id="rollout-title">
          Rollout <span className="mono">{r.id}</span>
        </h1>
        <span className={`pill pill-${stateTone(r.state)}`} data-testid="rollout-state">
          {r.state}
        </span>
        <span className="muted">
          firmware <span className="mono">{r.firmware}</span>
        </span>
        <div className="toolbar-spacer" />
        {r.state === 'running' && (
          <button
            type="button"
            className="btn"
            disabled={acting !== null}
            onClick={() => void a.act('pause')}
            data-testid="rollout-pause"
          >
            {acting === 'pause' ? 'Pausing…' : 'Pause'}
          </button>
        )}
        {r.state === 'paused' && (
          <button
            type="button"
            className="btn btn-primary"
            disabled={acting !== null}
            onClick={() => void a.act('resume')}
            data-testid="rollout-resume"
          >
            {acting === 'resume' ? 'Resuming…' : 'Resume'}
          </button>
        )}
        {!ended && failedCount > 0 && (
          <button
            type="button"
            className="btn"
            disabled={acting !== null}
            onClick={() => void a.act('retry')}
            data-testid="rollout-retry"
          >
            {acting === 'retry' ? 'Retrying…' : `Retry ${failedCount} failed`}
          </button>
        )}
        {!ended && !confirmAbort && (
          <button
            type="button"
            className="btn btn-danger-ghost"
            disabled={acting !== null}
            onClick={() => setConfirmAbort(true)}
            data-testid="rollout-abort"
          >
            Abort…
          </button>
        )}
      </div>
      {r.state === 'paused' && (
        <p className="notice notice-warn" data-testid="rollout-paused-note">
          {r.reason
            ? `Paused: ${r.reason}`
            : failedCount > 0
              ? `Paused with ${failedCount} failed device${failedCount === 1 ? '' : 's'}: check the reasons below, then resume, retry or abort.`
              : 'Paused.'}
        </p>
      )}
      {confirmAbort && !ended && (
        <div className="notice notice-error abort-confirm" data-testid="rollout-abort-confirm">
          <span>Abort this rollout? Devices not updated yet stay on their firmware.</span>
          {offersRollback && (
            <label className="check">
              <input
                type="checkbox"
                checked={rollback}
                onChange={(e) => setRollback(e.target.checked)}
                data-testid="rollout-rollback"
              />
              Roll back the updated devices to the firmware they ran before
            </label>
          )}
          <span className="toolbar-spacer" />
          <button
            type="button"
            className="btn btn-small btn-danger"
            disabled={acting !== null}
            onClick={() => {
              void a.act('abort', { rollback: offersRollback && rollback }).then((back) => {
                setConfirmAbort(false);
                // The rollback rollout it started is what to watch now.
                if (back) navigate({ name: 'rollout', id: back.id });
              });
            }}
            data-testid="rollout-abort-yes"
          >
            {acting === 'abort' ? 'Aborting…' : 'Abort rollout'}
          </button>
          <button type="button" className="btn btn-small" onClick={() => setConfirmAbort(false)}>
            Keep running
          </button>
        </div>
      )}
      <ActionErrorNotice error={actionError} testId="rollout-action-error" />
      {r.rollback_of && (
        <p className="muted">
          Rolls back{' '}
          <a href={`#/rollouts/${encodeURIComponent(r.rollback_of)}`} className="mono">
            {r.rollback_of}
          </a>
          .
        </p>
      )}
      <section className="card panel">
        <div className="counts" data-testid="rollout-counts">
          <Count label="Done" n={r.counts.done} tone="ok" />
          <Count label="Updating" n={r.counts.updating} tone="active" />
          <Count label="Pending" n={r.counts.pending} tone="muted" />
          <Count label="Failed" n={r.counts.failed} tone="danger" />
          <Count label="Skipped" n={r.counts.skipped} tone="muted" />
        </div>
        <ol className="waves" data-testid="rollout-waves">
          {r.waves.map((w, i) => {
            const p = waveProgress(r, i);
            const pct = p.size > 0 ? Math.round((p.finished * 100) / p.size) : 100;
            return (
              <li key={i} className="wave" data-testid="rollout-wave" data-state={w.state}>
                <span className="wave-name">Wave {i + 1}</span>
                <span className={`pill pill-${stateTone(w.state === 'done' ? 'done' : w.state)}`}>
                  {w.state}
                </span>
                <progress max={100} value={pct} aria-label={`Wave ${i + 1} progress`} />
                <span className="small nowrap">
                  {p.finished}/{p.size}
                  {p.failed > 0 && <span className="text-danger"> · {p.failed} failed</span>}
                </span>
              </li>
            );
          })}
        </ol>
      </section>
      <section className="card panel rollout-devices">
        <header className="panel-head">
          <h2>Devices</h2>
          <span className="muted small">{devices.length}</span>
        </header>
        <div className="table-row table-row-head rollout-device-row" role="row">
          <span className="cell">Device</span>
          <span className="cell">Wave</span>
          <span className="cell">State</span>
          <span className="cell">Reason</span>
        </div>
        <VirtualList<RolloutDeviceView>
          items={devices}
          rowHeight={ROW_HEIGHT}
          getKey={(d) => d.id}
          ariaLabel="Devices of the rollout"
          rowIndexOffset={1}
          className="rollout-device-list"
          testId="rollout-devices"
          rowProps={(d) => ({
            'data-testid': 'rollout-device',
            'data-id': d.id,
            'data-state': d.state,
          })}
          onActivate={(d) => navigate({ name: 'device', id: d.id })}
          renderRow={(d) => (
            <div className="rollout-device-row">
              <span className="cell mono">
                <a
                  href={`#/devices/${encodeURIComponent(d.id)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate({ name: 'device', id: d.id });
                  }}
                >
                  {d.id}
                </a>
              </span>
              <span className="cell">{d.wave !== undefined ? d.wave + 1 : '—'}</span>
              <span className="cell">
                <span className={`pill pill-${stateTone(d.state)}`}>{jobStateLabel(d.state)}</span>
              </span>
              <span
                className="cell small"
                title={d.error ? `${d.error.code}: ${d.error.message}` : ''}
              >
                {d.error ? (
                  <>
                    <span className="mono">{d.error.code}</span> {d.error.message}
                  </>
                ) : (
                  ''
                )}
              </span>
            </div>
          )}
          empty={<p className="muted">No devices in this rollout yet.</p>}
        />
      </section>
    </main>
  );
}

function Count({ label, n, tone }: { label: string; n: number; tone: string }): ReactNode {
  return (
    <div className={`count tone-${tone}`} data-testid={`count-${label.toLowerCase()}`}>
      <span className="count-n">{n}</span>
      <span className="muted small">{label}</span>
    </div>
  );
}
