/**
 * The port and baud pickers the flash form and the serial monitor share. A port held by someone
 * else is labelled "(in use: …)"; `ownPath` is the port this panel holds itself, so it is not.
 */
import type { ReactNode } from 'react';
import type { PortView } from '../../api/flasher-api';
import { ownerLabel } from './job-format';

export function PortSelect(props: {
  ports: PortView[];
  value: string;
  testId: string;
  onChange(path: string): void;
  disabled?: boolean;
  /** Make ports in use unselectable (the flash form; the monitor lists them for information). */
  disableBusy?: boolean;
  ownPath?: string | null;
}): ReactNode {
  return (
    <label className="field flasher-port">
      Port
      <select
        className="input"
        value={props.value}
        disabled={props.disabled === true || props.ports.length === 0}
        onChange={(e) => props.onChange(e.target.value)}
        data-testid={props.testId}
      >
        {props.ports.length === 0 && <option value="">No ports found</option>}
        {props.ports.map((p) => (
          <option
            key={p.path}
            value={p.path}
            disabled={props.disableBusy === true && p.owner !== null}
          >
            {p.path}
            {p.owner && p.path !== props.ownPath ? ` (in use: ${ownerLabel(p.owner)})` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

export function BaudSelect(props: {
  bauds: readonly number[];
  value: number;
  testId: string;
  onChange(baud: number): void;
  disabled?: boolean;
}): ReactNode {
  return (
    <label className="field">
      Baud
      <select
        className="input"
        value={props.value}
        disabled={props.disabled === true}
        onChange={(e) => props.onChange(Number(e.target.value))}
        data-testid={props.testId}
      >
        {props.bauds.map((b) => (
          <option key={b} value={b}>
            {b}
          </option>
        ))}
      </select>
    </label>
  );
}
