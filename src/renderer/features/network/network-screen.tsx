/**
 * Network page (issue 12): the doctor's checks (`GET /api/v2/doctor`, the same as `fleetbench
 * doctor`), each with its state, what was found and, when it failed, the fix with each command
 * ready to copy; "Run checks again"; and the Fleetbench hubs seen on this LAN by mDNS
 * (`GET /api/v2/hubs`), this one marked.
 */
import { useEffect, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { CheckState, DoctorCheck, HubsList, SeenHub } from '../../../shared/lan';
import { useApp, useSession } from '../../app-context';
import { useNow } from '../../components/use-now';
import { CopyButton } from '../../components/copy-button';
import { FixText } from '../../components/fix-text';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import './network.css';

/** How long the hub listens for other hubs when the page asks the LAN. */
const BROWSE_WAIT_MS = 1000;

const STATE_ICON: Record<CheckState, { icon: string; label: string }> = {
  ok: { icon: '✓', label: 'passed' },
  warn: { icon: '!', label: 'warning' },
  fail: { icon: '✕', label: 'failed' },
  skip: { icon: '–', label: 'skipped' },
};

export function NetworkScreen({ origin }: { origin: string }): ReactNode {
  const app = useApp();
  const client = useSession((s) => s.api);
  const deviceUrl = useSession((s) => s.deviceUrl);
  const store = app.network;
  const s = useStore(store);
  const now = useNow(10_000);

  useEffect(() => {
    if (!client) return;
    void store.getState().runChecks();
    // The hubs seen so far at once, then a fresh ask of the LAN.
    void store
      .getState()
      .browse(0)
      .then(() => store.getState().browse(BROWSE_WAIT_MS));
  }, [client, store]);

  const copy = (text: string): Promise<boolean> => app.copyText(text);
  const checks = s.report?.checks ?? [];
  const failed = checks.filter((c) => c.state === 'fail').length;
  const warned = checks.filter((c) => c.state === 'warn').length;

  return (
    <main className="page page-network" aria-labelledby="network-title" data-testid="network-page">
      <div className="toolbar">
        <h1 id="network-title">Network</h1>
        <span className="muted">what devices on this LAN need from the hub</span>
        <div className="toolbar-spacer" />
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => void s.runChecks()}
          disabled={s.checking}
          data-testid="doctor-rerun"
        >
          {s.checking ? 'Checking…' : 'Run checks again'}
        </button>
      </div>

      {s.checkError && (
        <p className="notice notice-error" role="alert" data-testid="doctor-error">
          Could not run the checks: {s.checkError}
        </p>
      )}

      <section className="card panel" aria-labelledby="doctor-title">
        <div className="panel-head">
          <h2 id="doctor-title">Checks</h2>
          {s.report && (
            <span className="muted small" data-testid="doctor-summary">
              {failed === 0 ? 'no check failed' : `${failed} failed`}
              {warned > 0 ? `, ${warned} to look at` : ''} · checked{' '}
              <span title={absoluteTime(s.report.checked_at)} data-testid="doctor-checked-at">
                {relativeTime(s.report.checked_at, now)}
              </span>
            </span>
          )}
        </div>
        {s.report === null ? (
          <p className="muted" aria-busy={s.checking}>
            {s.checking ? 'Running the checks…' : 'No checks run yet.'}
          </p>
        ) : (
          <ul className="doctor-list" aria-busy={s.checking} data-testid="doctor-list">
            {checks.map((c) => (
              <CheckRow key={c.id} check={c} onCopy={copy} />
            ))}
          </ul>
        )}
        <p className="muted small">
          The same checks in a terminal: <code className="mono">fleetbench doctor</code>
        </p>
      </section>

      <HubsSection
        list={s.hubs}
        error={s.hubsError}
        browsing={s.browsing}
        onBrowse={() => void s.browse(BROWSE_WAIT_MS)}
        origin={origin}
        deviceUrl={deviceUrl}
        now={now}
        onCopy={copy}
      />
    </main>
  );
}

function CheckRow({
  check,
  onCopy,
}: {
  check: DoctorCheck;
  onCopy(text: string): Promise<boolean>;
}): ReactNode {
  const { icon, label } = STATE_ICON[check.state];
  const showFix = check.fix !== undefined && (check.state === 'fail' || check.state === 'warn');
  return (
    <li
      className={`doctor-check doctor-${check.state}`}
      data-testid="doctor-check"
      data-id={check.id}
      data-state={check.state}
    >
      <span className="doctor-icon" role="img" aria-label={label} title={label}>
        {icon}
      </span>
      <div className="doctor-body">
        <div className="doctor-title">
          <strong>{check.title}</strong>
          <span className="doctor-state">{label}</span>
        </div>
        <div className="doctor-detail" data-testid="doctor-detail">
          {check.detail}
        </div>
        {showFix && check.fix !== undefined && (
          <div className="doctor-fix" data-testid="doctor-fix">
            <span className="doctor-fix-label">Fix</span>
            <FixText fix={check.fix} onCopy={onCopy} commandTestId="doctor-command" />
          </div>
        )}
      </div>
    </li>
  );
}

/**
 * The hubs mDNS found, this one first. This hub is listed even when mDNS is off (or its own
 * announcement has not come back yet), from what the page already knows about it.
 */
export function hubRows(list: HubsList | null, origin: string, deviceUrl: string): SeenHub[] {
  const seen = list?.hubs ?? [];
  const isSelf = (h: SeenHub): boolean => h.self || (list !== null && h.id === list.id);
  const found = seen.find(isSelf);
  const self = found && { ...found, self: true };
  const others = seen.filter((h) => !isSelf(h)).sort((a, b) => a.name.localeCompare(b.name));
  const own: SeenHub = self ?? {
    name: list?.mdns.instance ?? 'This hub',
    host: list?.mdns.host ?? new URL(origin).hostname,
    addresses: list?.mdns.addresses ?? [],
    device_url: deviceUrl,
    dashboard_url: `${origin.replace(/\/+$/, '')}/`,
    version: '',
    id: list?.id ?? '',
    self: true,
    last_seen: 0,
  };
  return [own, ...others];
}

function HubsSection({
  list,
  error,
  browsing,
  onBrowse,
  origin,
  deviceUrl,
  now,
  onCopy,
}: {
  list: HubsList | null;
  error: string | null;
  browsing: boolean;
  onBrowse(): void;
  origin: string;
  deviceUrl: string;
  now: number;
  onCopy(text: string): Promise<boolean>;
}): ReactNode {
  const rows = hubRows(list, origin, deviceUrl);
  const mdns = list?.mdns;
  return (
    <section className="card panel" aria-labelledby="hubs-title">
      <div className="panel-head">
        <h2 id="hubs-title">Hubs on this network</h2>
        <span className="muted small">found by mDNS / DNS-SD</span>
        <div className="toolbar-spacer" />
        <button
          type="button"
          className="btn btn-small"
          onClick={onBrowse}
          disabled={browsing}
          data-testid="hubs-refresh"
        >
          {browsing ? 'Looking…' : 'Look again'}
        </button>
      </div>
      {error && (
        <p className="notice notice-error" role="alert">
          Could not list the hubs: {error}
        </p>
      )}
      {mdns && !mdns.enabled && (
        <p className="notice notice-warn" data-testid="hubs-mdns-off">
          mDNS is off on this hub: it does not advertise itself and other hubs are not listed (
          <code className="mono">fleetbench serve</code> advertises by default).
        </p>
      )}
      {mdns?.problem !== undefined && (
        <p className="notice notice-warn" data-testid="hubs-mdns-problem">
          mDNS is not working: {mdns.problem}
        </p>
      )}
      <table className="hubs-table" data-testid="hubs-table">
        <thead>
          <tr>
            <th>Hub</th>
            <th>Addresses</th>
            <th>Device URL</th>
            <th>Seen</th>
            <th aria-label="Dashboard" />
          </tr>
        </thead>
        <tbody>
          {rows.map((h) => (
            <tr
              key={`${h.self ? 'self' : h.name}`}
              data-testid="hub-row"
              data-self={String(h.self)}
              className={h.self ? 'hub-self' : undefined}
            >
              <td>
                <strong>{h.name}</strong>{' '}
                {h.self && (
                  <span className="pill pill-self" data-testid="hub-self">
                    this hub
                  </span>
                )}
                <div className="muted small mono">
                  {h.host}
                  {h.version !== '' ? ` · v${h.version}` : ''}
                </div>
              </td>
              <td className="mono small">{h.addresses.join(', ') || '—'}</td>
              <td>
                <div className="hub-url">
                  <code className="mono small" data-testid="hub-device-url">
                    {h.device_url}
                  </code>
                  <CopyButton
                    text={h.device_url}
                    onCopy={onCopy}
                    className="btn btn-small"
                    ariaLabel={`Copy the device URL of ${h.name}`}
                  />
                </div>
              </td>
              <td className="nowrap small">
                {h.last_seen > 0 ? relativeTime(h.last_seen, now) : '—'}
              </td>
              <td className="nowrap">
                {h.self ? (
                  <span className="muted small">you are here</span>
                ) : (
                  <a
                    className="btn btn-small"
                    href={h.dashboard_url}
                    target="_blank"
                    rel="noreferrer"
                    data-testid="hub-dashboard"
                  >
                    Dashboard ↗
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
