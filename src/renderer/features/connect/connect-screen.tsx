/** Login: paste the hub's master key (PROTOCOL.md 4). Shown when no key came from the desktop app, the URL or this tab. */
import { useState, type FormEvent, type ReactNode } from 'react';
import { useSession } from '../../app-context';

export function ConnectScreen({ origin }: { origin: string }): ReactNode {
  const phase = useSession((s) => s.phase);
  const error = useSession((s) => s.error);
  const submitKey = useSession((s) => s.submitKey);
  const [key, setKey] = useState('');
  const [show, setShow] = useState(false);
  const busy = phase === 'connecting';

  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    void submitKey(key);
  };

  return (
    <main className="connect">
      <form
        className="card connect-card"
        onSubmit={onSubmit}
        data-testid="login-form"
        aria-describedby="connect-help"
      >
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Fleetbench
        </div>
        <p className="muted" id="connect-help">
          Connect to the hub at <span className="mono">{origin}</span> with its master key.{' '}
          <span className="mono">fleetbench serve</span> prints a link that logs in directly.
        </p>
        <label htmlFor="login-key">Master key</label>
        <div className="copy-row">
          <input
            id="login-key"
            className="input mono"
            type={show ? 'text' : 'password'}
            autoComplete="off"
            spellCheck={false}
            autoFocus
            value={key}
            onChange={(e) => setKey(e.target.value)}
            data-testid="login-key"
            aria-invalid={error !== null}
            aria-describedby={error !== null ? 'login-error' : undefined}
          />
          <button type="button" className="btn" onClick={() => setShow(!show)} aria-pressed={show}>
            {show ? 'Hide' : 'Show'}
          </button>
        </div>
        {error !== null && (
          <p className="form-error" role="alert" id="login-error" data-testid="login-error">
            {error}
          </p>
        )}
        <button
          type="submit"
          className="btn btn-primary btn-block"
          disabled={busy}
          data-testid="login-submit"
        >
          {busy ? 'Connecting…' : 'Connect'}
        </button>
      </form>
    </main>
  );
}

export function Splash(): ReactNode {
  return (
    <main className="connect" aria-busy="true">
      <div className="brand brand-large">
        <span className="brand-mark" aria-hidden="true" />
        Fleetbench
      </div>
      <p className="muted">Connecting to the hub…</p>
    </main>
  );
}
