/** Call a device method (PROTOCOL.md 4 `POST /devices/:id/rpc/:method`) and show the result or the coded error. */
import type { ReactNode } from 'react';
import { JsonBlock } from '../../components/json-block';
import type { RpcOutcome } from '../../stores/device-detail-store';

export interface RpcPanelProps {
  online: boolean;
  method: string;
  params: string;
  inputError: string | null;
  pending: boolean;
  outcome: RpcOutcome | null;
  onMethod(method: string): void;
  onParams(params: string): void;
  onCall(): void;
}

/** Methods every mDash / Mongoose OS device answers (PROTOCOL.md 2). */
const COMMON_METHODS = [
  'Sys.GetInfo',
  'Sys.Reboot',
  'RPC.List',
  'Config.Get',
  'FS.List',
  'Shadow.Get',
  'OTA.GetBootState',
];

export function RpcPanel(props: RpcPanelProps): ReactNode {
  const o = props.outcome;
  return (
    <section className="card panel" aria-labelledby="rpc-title" data-testid="rpc-panel">
      <header className="panel-head">
        <h2 id="rpc-title">Call a method</h2>
        {!props.online && <span className="muted small">device offline: calls fail with 503</span>}
      </header>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          props.onCall();
        }}
      >
        <div className="field">
          <label htmlFor="rpc-method">Method</label>
          <input
            id="rpc-method"
            className="input mono"
            list="rpc-methods"
            value={props.method}
            spellCheck={false}
            onChange={(e) => props.onMethod(e.target.value)}
            data-testid="rpc-method"
          />
          <datalist id="rpc-methods">
            {COMMON_METHODS.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="rpc-params">
            Params <span className="muted">(JSON, optional)</span>
          </label>
          <textarea
            id="rpc-params"
            className="input mono textarea"
            rows={3}
            spellCheck={false}
            value={props.params}
            placeholder='{"key": "value"}'
            onChange={(e) => props.onParams(e.target.value)}
            onKeyDown={(e) => {
              if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
                e.preventDefault();
                props.onCall();
              }
            }}
            data-testid="rpc-params"
          />
        </div>
        {props.inputError !== null && (
          <p className="form-error" role="alert" data-testid="rpc-input-error">
            {props.inputError}
          </p>
        )}
        <div className="row-actions">
          <button
            type="submit"
            className="btn btn-primary"
            disabled={props.pending}
            data-testid="rpc-call"
          >
            {props.pending ? 'Waiting for device…' : 'Call'}
          </button>
        </div>
      </form>
      <div aria-live="polite">
        {o?.ok === true && (
          <div className="rpc-outcome" data-testid="rpc-result">
            <p className="small">
              <span className="text-ok">{o.method}</span> answered in {o.ms} ms
            </p>
            <JsonBlock value={o.value} label="RPC result" />
          </div>
        )}
        {o?.ok === false && (
          <div
            className="notice notice-error"
            role="alert"
            data-testid="rpc-error"
            data-code={o.code}
          >
            <strong>{o.code === 0 ? 'network' : o.code}</strong> {o.method}: {o.message}
          </div>
        )}
      </div>
    </section>
  );
}
