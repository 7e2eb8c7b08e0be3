/**
 * Rollouts page (PROTOCOL.md 9 `/rollouts`): the list with state and counts, the create form with
 * its wave preview, and, at `#/rollouts/<id>`, one rollout's detail. Live from `rollout.*`
 * notifications through the rollouts store.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useApp, useRollouts, useRoute } from '../../app-context';
import type { RolloutView } from '../../api/schemas';
import { useNow } from '../../components/use-now';
import { stateTone } from '../../lib/ota-format';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import { RolloutDetail } from './rollout-detail';
import { RolloutForm } from './rollout-form';
import './ota-pages.css';

export function RolloutsScreen({ openId }: { openId: string | null }): ReactNode {
  const app = useApp();
  const a = app.rollouts.getState();
  const navigate = useRoute((s) => s.navigate);
  const list = useRollouts((s) => s.list);
  const loaded = useRollouts((s) => s.loaded);
  const loadError = useRollouts((s) => s.loadError);
  const library = useRollouts((s) => s.library);
  const preview = useRollouts((s) => s.preview);
  const previewError = useRollouts((s) => s.previewError);
  const creating = useRollouts((s) => s.creating);
  const createError = useRollouts((s) => s.createError);
  const [formOpen, setFormOpen] = useState(false);
  const now = useNow(30_000);

  useEffect(() => {
    if (formOpen) void a.loadFormData();
  }, [formOpen, a]);

  if (openId !== null) return <RolloutDetail id={openId} />;

  return (
    <main className="page page-ota" aria-labelledby="rollouts-title" data-testid="rollouts-page">
      <div className="toolbar">
        <h1 id="rollouts-title">Rollouts</h1>
        <span className="muted">Staged fleet updates in waves</span>
        <div className="toolbar-spacer" />
        {!formOpen && (
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => setFormOpen(true)}
            data-testid="rollout-new"
          >
            New rollout
          </button>
        )}
      </div>
      {formOpen && (
        <RolloutForm
          library={library}
          preview={preview}
          previewError={previewError}
          creating={creating}
          createError={createError}
          onPreview={(body) => void a.updatePreview(body)}
          onChange={a.clearCreateError}
          onClose={() => setFormOpen(false)}
          onCreate={(body) =>
            void a.create(body).then((r) => {
              if (!r) return;
              setFormOpen(false);
              navigate({ name: 'rollout', id: r.id });
            })
          }
        />
      )}
      {loadError && (
        <p className="notice notice-error" role="alert">
          Could not load the rollouts: {loadError}
        </p>
      )}
      <section className="card panel">
        {loaded && list.length === 0 ? (
          <p className="muted" data-testid="rollouts-empty">
            No rollouts yet. A rollout updates a group of devices in waves and pauses by itself when
            too many fail.
          </p>
        ) : (
          <table className="ota-table" data-testid="rollouts-table">
            <thead>
              <tr>
                <th>Rollout</th>
                <th>Firmware</th>
                <th>State</th>
                <th>Waves</th>
                <th>Done</th>
                <th>Updating</th>
                <th>Pending</th>
                <th>Failed</th>
                <th>Skipped</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <RolloutRow
                  key={r.id}
                  r={r}
                  now={now}
                  onOpen={() => navigate({ name: 'rollout', id: r.id })}
                />
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}

function RolloutRow({
  r,
  now,
  onOpen,
}: {
  r: RolloutView;
  now: number;
  onOpen(): void;
}): ReactNode {
  const wavesDone = r.waves.filter((w) => w.state === 'done').length;
  return (
    <tr data-testid="rollout-row" data-id={r.id} data-state={r.state}>
      <td>
        <a
          href={`#/rollouts/${encodeURIComponent(r.id)}`}
          className="mono"
          onClick={(e) => {
            e.preventDefault();
            onOpen();
          }}
        >
          {r.id}
        </a>
      </td>
      <td className="mono">{r.firmware}</td>
      <td>
        <span className={`pill pill-${stateTone(r.state)}`}>{r.state}</span>
      </td>
      <td>
        {wavesDone}/{r.waves.length}
      </td>
      <td className="text-ok">{r.counts.done}</td>
      <td>{r.counts.updating}</td>
      <td>{r.counts.pending}</td>
      <td className={r.counts.failed > 0 ? 'text-danger' : ''}>{r.counts.failed}</td>
      <td className="muted">{r.counts.skipped}</td>
      <td title={absoluteTime(r.created)} className="nowrap">
        {relativeTime(r.created, now)}
      </td>
    </tr>
  );
}
