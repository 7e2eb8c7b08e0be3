/** Flash jobs, newest first, with a live progress bar, the error and its hint, and Cancel. */
import type { ReactNode } from 'react';
import type { JobView } from '../../api/flasher-api';
import { isActive, progressPercent, stateLabel } from './job-format';

export function JobList(props: { jobs: JobView[]; onCancel(id: string): void }): ReactNode {
  return (
    <section className="panel" aria-label="Flash jobs">
      <div className="panel-head">
        <h2>Jobs</h2>
      </div>
      {props.jobs.length === 0 ? (
        <p className="muted">No flash jobs yet.</p>
      ) : (
        <ul className="flasher-jobs" data-testid="flasher-jobs">
          {props.jobs.map((j) => {
            const s = j.state;
            const pct = progressPercent(s);
            return (
              <li key={j.id} className="card" data-testid={`job-${j.id}`}>
                <div className="copy-row">
                  <span className="mono">{j.id}</span>
                  <span className="mono">{j.port}</span>
                  <span className="pill">{j.kind}</span>
                  <span data-testid="job-state">{stateLabel(s)}</span>
                  <div className="toolbar-spacer" />
                  {isActive(s) && (
                    <button
                      type="button"
                      className="btn btn-small btn-danger-ghost"
                      onClick={() => props.onCancel(j.id)}
                    >
                      Cancel
                    </button>
                  )}
                </div>
                <progress max={100} value={pct} aria-label={`Progress of ${j.id}`} />
                <div className="muted small">
                  {j.files.map((f) => `${f.name} (${f.size} B)`).join(', ')}
                </div>
                {s.state === 'done' && s.chip && (
                  <div className="small">
                    {s.chip.chip}
                    {s.chip.mac ? `, MAC ${s.chip.mac}` : ''}
                    {s.chip.flashSize ? `, flash ${s.chip.flashSize}` : ''}
                    {s.deviceId ? `, device ${s.deviceId}` : ''}
                  </div>
                )}
                {s.state === 'failed' && (
                  <div className="notice notice-error">
                    {s.message}
                    {s.hint && <div className="small">Hint: {s.hint}</div>}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
