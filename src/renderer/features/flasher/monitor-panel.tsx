/**
 * The serial monitor panel: pick a port and baud, Open, read the board's output, type a line to
 * send it, reset the board. Presentational: state and actions come from monitor-store.ts.
 */
import { useLayoutEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { PortView } from '../../api/flasher-api';
import type { MonitorLine, MonitorStatus } from './monitor-store';
import { ownerLabel } from './job-format';
import { BaudSelect, PortSelect } from './port-fields';

const BAUDS = [9600, 57600, 74880, 115200, 230400, 460800, 921600];

export function MonitorPanel(props: {
  ports: PortView[];
  status: MonitorStatus;
  port: string | null;
  baud: number;
  lines: MonitorLine[];
  onOpen(port: string, baud: number): void;
  onClose(): void;
  onSend(text: string): void;
  onReset(): void;
  onClear(): void;
}): ReactNode {
  const [port, setPort] = useState('');
  const [baud, setBaud] = useState(props.baud);
  const [input, setInput] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const active = props.status !== 'closed';
  // While open, the panel shows the monitored port; else the user's pick or the first free one.
  const listed = props.ports.some((p) => p.path === port);
  const shown = active
    ? (props.port ?? '')
    : listed
      ? port
      : (props.ports.find((p) => !p.owner)?.path ?? '');
  const owner = props.ports.find((p) => p.path === shown)?.owner ?? null;
  const busyElsewhere = !active && owner !== null;

  useLayoutEffect(() => {
    const el = ref.current;
    // Follow new output only while the user is at the bottom; scrolling up to read stops it.
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [props.lines]);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (input === '') return;
    props.onSend(`${input}\r\n`);
    setInput('');
  };

  return (
    <section className="card panel" aria-labelledby="monitor-title" data-testid="monitor">
      <header className="panel-head">
        <h2 id="monitor-title">Serial monitor</h2>
        <span className="muted small" data-testid="monitor-status">
          {props.status === 'open'
            ? `open on ${props.port ?? ''} at ${props.baud} baud`
            : props.status === 'opening'
              ? 'opening…'
              : 'closed'}
        </span>
        <div className="toolbar-spacer" />
        <button
          type="button"
          className="btn btn-small"
          onClick={props.onClear}
          disabled={props.lines.length === 0}
        >
          Clear
        </button>
      </header>
      <div className="flasher-form">
        <PortSelect
          ports={props.ports}
          value={shown}
          disabled={active}
          onChange={setPort}
          testId="monitor-port"
          ownPath={active ? props.port : null}
        />
        <BaudSelect
          bauds={BAUDS}
          value={baud}
          disabled={active}
          onChange={setBaud}
          testId="monitor-baud"
        />
        {active ? (
          <button type="button" className="btn" onClick={props.onClose} data-testid="monitor-close">
            Close
          </button>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            disabled={shown === '' || busyElsewhere}
            onClick={() => props.onOpen(shown, baud)}
            data-testid="monitor-open"
          >
            Open
          </button>
        )}
        <button
          type="button"
          className="btn"
          disabled={props.status !== 'open'}
          onClick={props.onReset}
          title="Pulse the reset line (not possible on ports without DTR/RTS, such as ptys)"
        >
          Reset board
        </button>
      </div>
      {busyElsewhere && owner && (
        <p className="muted small" data-testid="monitor-blocker">
          {shown} is in use by {ownerLabel(owner)}; open the monitor when it is free.
        </p>
      )}
      <div
        ref={ref}
        className="console"
        role="log"
        aria-label="Serial output"
        tabIndex={0}
        data-testid="monitor-output"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {props.lines.length === 0 ? (
          <span className="muted">
            Open a port to see what the board prints (boot log, your firmware&apos;s output).
          </span>
        ) : (
          props.lines.map((l) => (
            <div
              key={l.n}
              className={`console-line monitor-${l.kind}`}
              data-testid="monitor-line"
              data-kind={l.kind}
            >
              {l.text}
            </div>
          ))
        )}
      </div>
      <form className="copy-row" onSubmit={submit}>
        <input
          className="input mono"
          placeholder={
            props.status === 'open'
              ? 'Type a line, Enter sends it'
              : 'Open the monitor to send input'
          }
          aria-label="Send to the board"
          value={input}
          disabled={props.status !== 'open'}
          onChange={(e) => setInput(e.target.value)}
          data-testid="monitor-input"
        />
        <button
          type="submit"
          className="btn"
          disabled={props.status !== 'open' || input === ''}
          data-testid="monitor-send"
        >
          Send
        </button>
      </form>
    </section>
  );
}
