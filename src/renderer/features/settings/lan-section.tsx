/**
 * LAN services in Settings (issue 12): the switch, the SNTP and DNS ports, the names answered with
 * the hub's address, the upstream resolver and the LAN address, saved in the hub's settings.json
 * and applied at once (`PUT /api/v2/lan`); and each responder's live status: listening and
 * answered count, or why it is not listening with the exact fix, each command ready to copy.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { LanSettingsPatch, LanStatus, ResponderStatus } from '../../../shared/lan';
import { useApp, useSession } from '../../app-context';
import { FixText } from '../../components/fix-text';
import './lan-section.css';

/** How often the counters are read while the section is shown. */
const POLL_MS = 3000;

interface LanForm {
  sntpPort: string;
  dnsPort: string;
  names: string;
  upstream: string;
  lanAddress: string;
}

function formOf(s: LanStatus): LanForm {
  return {
    sntpPort: String(s.sntp.port),
    dnsPort: String(s.dns.port),
    names: s.dns.names.join('\n'),
    upstream: s.dns.upstream ?? '',
    lanAddress: s.lan_address ?? '',
  };
}

/** The form as a PUT body; a port that is not a whole number is sent as is for the hub to refuse. */
function patchOf(f: LanForm): LanSettingsPatch {
  const port = (t: string): number => (t.trim() === '' ? NaN : Number(t));
  return {
    sntp_port: port(f.sntpPort),
    dns_port: port(f.dnsPort),
    names: f.names
      .split(/[\s,]+/)
      .map((n) => n.trim())
      .filter(Boolean),
    upstream: f.upstream.trim() === '' ? null : f.upstream.trim(),
    lan_address: f.lanAddress.trim() === '' ? null : f.lanAddress.trim(),
  };
}

export function LanSection(): ReactNode {
  const app = useApp();
  const client = useSession((s) => s.api);
  const store = app.lan;
  const s = useStore(store);
  const [form, setForm] = useState<LanForm | null>(null);

  useEffect(() => {
    if (!client) return;
    void store.getState().refresh();
    const timer = setInterval(() => void store.getState().refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [client, store]);

  // The form starts from the hub's settings once; later polls only update the status.
  useEffect(() => {
    if (form === null && s.status) setForm(formOf(s.status));
  }, [form, s.status]);

  // The switch shows what was asked at once; the hub's answer (or a refusal) settles it.
  const [wantedOn, setWantedOn] = useState<boolean | null>(null);
  const apply = (patch: LanSettingsPatch): void => {
    void s
      .apply(patch)
      .then((ok) => {
        const now = store.getState().status;
        if (ok && now) setForm(formOf(now));
      })
      .finally(() => setWantedOn(null));
  };
  const set = (k: keyof LanForm) => (e: { target: { value: string } }) =>
    setForm((f) => (f ? { ...f, [k]: e.target.value } : f));
  const copy = (text: string): Promise<boolean> => app.copyText(text);

  return (
    <section
      className="card panel stack lan-section"
      aria-labelledby="lan-title"
      data-testid="lan-section"
    >
      <header className="panel-head">
        <h2 id="lan-title">LAN services</h2>
        <span className="muted small">
          time (SNTP) and names (DNS) for devices on a LAN with no internet
        </span>
      </header>
      {s.loadError && (
        <p className="notice notice-error" role="alert" data-testid="lan-load-error">
          Could not read the LAN services: {s.loadError}
        </p>
      )}
      {s.status === null || form === null ? (
        <p className="muted">{s.loadError ? '' : 'Loading…'}</p>
      ) : (
        <>
          <label className="lan-switch">
            <input
              type="checkbox"
              role="switch"
              checked={wantedOn ?? s.status.enabled}
              disabled={s.saving}
              aria-checked={wantedOn ?? s.status.enabled}
              data-testid="lan-enabled"
              onChange={(e) => {
                setWantedOn(e.target.checked);
                apply({ ...patchOf(form), enabled: e.target.checked });
              }}
            />
            <span>
              <strong>Answer SNTP and DNS</strong>{' '}
              <span className="muted small">
                devices that ask <code className="mono">time.google.com</code> or{' '}
                <code className="mono">pool.ntp.org</code> get this hub
              </span>
            </span>
          </label>
          <form
            className="lan-form"
            onSubmit={(e) => {
              e.preventDefault();
              apply(patchOf(form));
            }}
          >
            <div className="field">
              <label htmlFor="lan-sntp-port" className="small">
                SNTP port (UDP)
              </label>
              <input
                id="lan-sntp-port"
                className="input lan-port"
                inputMode="numeric"
                value={form.sntpPort}
                onChange={set('sntpPort')}
                data-testid="lan-sntp-port"
              />
            </div>
            <div className="field">
              <label htmlFor="lan-dns-port" className="small">
                DNS port (UDP)
              </label>
              <input
                id="lan-dns-port"
                className="input lan-port"
                inputMode="numeric"
                value={form.dnsPort}
                onChange={set('dnsPort')}
                data-testid="lan-dns-port"
              />
            </div>
            <div className="field lan-wide">
              <label htmlFor="lan-names" className="small">
                Names answered with this hub&apos;s address (one per line; <code>*.</code> for every
                subdomain)
              </label>
              <textarea
                id="lan-names"
                className="input textarea mono"
                rows={4}
                value={form.names}
                onChange={set('names')}
                data-testid="lan-names"
              />
            </div>
            <div className="field">
              <label htmlFor="lan-upstream" className="small">
                Upstream resolver for other names
              </label>
              <input
                id="lan-upstream"
                className="input mono"
                placeholder="none: other names are refused"
                value={form.upstream}
                onChange={set('upstream')}
                data-testid="lan-upstream"
              />
            </div>
            <div className="field">
              <label htmlFor="lan-address" className="small">
                LAN address to answer with
              </label>
              <input
                id="lan-address"
                className="input mono"
                placeholder="auto: the address of the query's interface"
                value={form.lanAddress}
                onChange={set('lanAddress')}
                data-testid="lan-address"
              />
            </div>
            <div className="lan-actions lan-wide">
              <button
                type="submit"
                className="btn btn-primary"
                disabled={s.saving}
                data-testid="lan-save"
              >
                {s.saving ? 'Applying…' : 'Save and apply'}
              </button>
              <span className="muted small">
                this hub&apos;s addresses:{' '}
                {s.status.addresses.join(', ') || 'none (no LAN interface up)'}
              </span>
            </div>
          </form>
          {s.saveError && (
            <p className="notice notice-error" role="alert" data-testid="lan-save-error">
              Not saved: {s.saveError}
            </p>
          )}
          <ul className="lan-responders">
            <ResponderRow
              id="sntp"
              title="SNTP time server"
              enabled={s.status.enabled}
              r={s.status.sntp}
              onCopy={copy}
            />
            <ResponderRow
              id="dns"
              title="DNS responder"
              enabled={s.status.enabled}
              r={s.status.dns}
              extra={
                s.status.dns.upstream !== null
                  ? `${s.status.dns.forwarded ?? 0} forwarded, ${s.status.dns.failed ?? 0} failed`
                  : `${s.status.dns.refused ?? 0} refused`
              }
              onCopy={copy}
            />
          </ul>
        </>
      )}
    </section>
  );
}

function ResponderRow({
  id,
  title,
  enabled,
  r,
  extra,
  onCopy,
}: {
  id: string;
  title: string;
  enabled: boolean;
  r: ResponderStatus;
  extra?: string;
  onCopy(text: string): Promise<boolean>;
}): ReactNode {
  const state = !enabled ? 'off' : r.listening ? 'listening' : 'problem';
  return (
    <li
      className={`lan-responder lan-state-${state}`}
      data-testid={`lan-${id}-status`}
      data-state={state}
    >
      <div className="lan-responder-head">
        <strong>{title}</strong>
        <span className="lan-state" data-testid={`lan-${id}-state`}>
          {state === 'off'
            ? 'off'
            : state === 'listening'
              ? `listening on UDP ${r.port}`
              : `not listening on UDP ${r.port}`}
        </span>
        {enabled && (
          <span className="muted small" data-testid={`lan-${id}-answered`}>
            {r.answered} answered{extra ? `, ${extra}` : ''}
          </span>
        )}
      </div>
      {enabled && r.problem && (
        <div className="lan-problem" role="alert" data-testid={`lan-${id}-problem`}>
          <p>
            {r.problem.message} <span className="muted small">(code {r.problem.code})</span>
          </p>
          <FixText fix={r.problem.fix} onCopy={onCopy} />
        </div>
      )}
    </li>
  );
}
