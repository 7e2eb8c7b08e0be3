/** Flash jobs, newest first, with a live progress bar, the board found, the error and its hint, and Cancel. */
import type { ReactNode } from 'react';
import type { JobView } from '../../api/flasher-api';
import {
  formatAddress,
  formatBytes,
  isActive,
  isPreparing,
  progressPercent,
  stateLabel,
  stateTone,
} from './job-format';

function filesText(j: JobView): string {
  return j.files
    .map((f) => {
      const at = f.address !== undefined ? ` @ ${formatAddress(f.address)}` : '';
      return `${f.name}${at} (${formatBytes(f.size)})`;
    })
    .join(', ');
}

function JobCard({ job, onCancel }: { job: JobView; onCancel(id: string): void }): ReactNode {
  const s = job.state;
  const pct = progressPercent(s);
  const tone = stateTone(s);
  const warnings = job.result?.warnings ?? [];
  return (
    <li
      className={`flasher-job flasher-job-${tone}`}
      data-testid="flash-job"
      data-job-id={job.id}
      data-state={s.state}
    >
      <div className="flasher-job-head">
        <span className={`pill flasher-state flasher-state-${tone}`} data-testid="job-state">
          {stateLabel(s)}
        </span>
        <span className="flasher-job-files" title={filesText(job)}>
          {filesText(job)}
        </span>
        <div className="toolbar-spacer" />
        <span className="mono small muted">{job.port}</span>
        {isActive(s) && (
          <button
            type="button"
            className="btn btn-small btn-danger-ghost"
            onClick={() => onCancel(job.id)}
            data-testid="job-cancel"
          >
            Cancel
          </button>
        )}
      </div>
      {s.state !== 'failed' && s.state !== 'cancelled' && (
        <div className="flasher-progress">
          {/* No value: an indeterminate bar while connecting, erasing, ... (length unknown). */}
          <progress
            max={100}
            {...(isPreparing(s) ? {} : { value: pct })}
            aria-label={`Progress of job ${job.id}`}
          />
          <span className="small muted flasher-percent" data-testid="job-percent">
            {isPreparing(s) || s.state === 'queued' ? '' : `${pct} %`}
          </span>
        </div>
      )}
      {s.state === 'done' && (
        <div className="flasher-facts small" data-testid="job-chip">
          <span className="muted">Board</span>
          {s.chip ? (
            <>
              <span>{s.chip.chip}</span>
              {s.chip.mac && (
                <span>
                  MAC <span className="mono">{s.chip.mac}</span>
                </span>
              )}
              {s.chip.flashSize && <span>flash {s.chip.flashSize}</span>}
            </>
          ) : (
            <span className="muted">chip not reported</span>
          )}
          {s.deviceId && (
            <span>
              device <span className="mono">{s.deviceId}</span>
            </span>
          )}
        </div>
      )}
      {warnings.length > 0 && (
        <ul className="notice notice-warn flasher-warnings" data-testid="job-warnings">
          {warnings.map((w, i) => (
            <li key={i}>Warning: {w}</li>
          ))}
        </ul>
      )}
      {s.state === 'failed' && (
        <div className="notice notice-error flasher-error" role="alert" data-testid="job-error">
          <span className="flasher-code">{s.code}</span>
          <span>{s.message}</span>
          {s.hint && (
            <span className="flasher-hint" data-testid="job-hint">
              {s.hint}
            </span>
          )}
        </div>
      )}
      <div className="muted small">
        Job <span className="mono">{job.id}</span>, started{' '}
        {new Date(job.started ?? job.created).toLocaleTimeString()}
      </div>
    </li>
  );
}

export function JobList(props: { jobs: JobView[]; onCancel(id: string): void }): ReactNode {
  return (
    <section className="card panel" aria-labelledby="flash-jobs-title">
      <header className="panel-head">
        <h2 id="flash-jobs-title">Jobs</h2>
        {props.jobs.length > 0 && <span className="muted small">newest first</span>}
      </header>
      {props.jobs.length === 0 ? (
        <p className="muted flasher-empty">
          No flash jobs yet. Jobs started here or through this hub&apos;s API show up with their
          progress.
        </p>
      ) : (
        <ul className="flasher-jobs" data-testid="flasher-jobs">
          {props.jobs.map((j) => (
            <JobCard key={j.id} job={j} onCancel={props.onCancel} />
          ))}
        </ul>
      )}
    </section>
  );
}
