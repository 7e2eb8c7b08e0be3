/**
 * The serial monitor beside the flasher (README "Flashing": `WS /api/v2/local/monitor`): one
 * port at a time, its output as lines, input sent as typed, reset. While it is open the monitor
 * holds the port (a flash on it is refused with port_busy), so the page reloads the port list on
 * every open and close.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { FlasherApi, MonitorConnection, MonitorFrame } from '../../api/flasher-api';

export type MonitorLineKind = 'line' | 'info' | 'warning' | 'error' | 'panic' | 'input';

export interface MonitorLine {
  n: number;
  kind: MonitorLineKind;
  text: string;
}

export type MonitorStatus = 'closed' | 'opening' | 'open';

export interface MonitorState {
  status: MonitorStatus;
  port: string | null;
  baud: number;
  lines: MonitorLine[];
  open(port: string, baud: number): void;
  close(): void;
  /** Sends text as typed; a line from the input box gets `\r\n` appended by the caller's choice. */
  send(text: string): void;
  reset(): void;
  clear(): void;
}

export type MonitorStore = StoreApi<MonitorState>;

export interface MonitorDeps {
  api: Pick<FlasherApi, 'monitor'>;
  /** The port list changes owner when the monitor opens or closes. */
  onPortChange(): void;
}

/** Lines kept on screen; older ones scroll away (the hub keeps its own scrollback). */
export const MAX_MONITOR_LINES = 2000;
export const DEFAULT_MONITOR_BAUD = 115200;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A monitor frame as console lines (pure). */
export function frameLines(frame: MonitorFrame): { kind: MonitorLineKind; text: string }[] {
  switch (frame.type) {
    case 'line':
      return [{ kind: 'line', text: frame.line }];
    case 'warning':
      return [{ kind: 'warning', text: frame.message }];
    case 'error':
      return [{ kind: 'error', text: `${frame.code}: ${frame.message}` }];
    case 'close':
      return [{ kind: 'info', text: `--- port closed (${frame.reason}): ${frame.message}` }];
    case 'panic': {
      const p = frame.panic;
      const where =
        p.fn !== undefined
          ? ` in ${p.fn}+${hex(p.offset ?? 0)}`
          : p.pc !== undefined
            ? ` at ${hex(p.pc)}`
            : '';
      const core = p.core !== undefined ? ` (core ${p.core})` : '';
      return [{ kind: 'panic', text: `--- panic: ${p.reason}${where}${core}` }];
    }
    case 'data':
    case 'scrollback':
    case 'ok':
      return [];
  }
}

export function createMonitorStore(deps: MonitorDeps): MonitorStore {
  let conn: MonitorConnection | null = null;
  let next = 1;
  return createStore<MonitorState>()((set, get) => {
    const append = (items: { kind: MonitorLineKind; text: string }[]): void => {
      if (items.length === 0) return;
      const added = items.map((i) => ({ ...i, n: next++ }));
      set({ lines: [...get().lines, ...added].slice(-MAX_MONITOR_LINES) });
    };

    return {
      status: 'closed',
      port: null,
      baud: DEFAULT_MONITOR_BAUD,
      lines: [],

      open(port, baud) {
        conn?.close();
        set({ status: 'opening', port, baud });
        append([{ kind: 'info', text: `--- opening ${port} at ${baud} baud` }]);
        const mine = deps.api.monitor(port, baud, {
          onOpen: () => {
            if (conn !== mine) return;
            set({ status: 'open' });
            append([{ kind: 'info', text: `--- monitor open on ${port}` }]);
            deps.onPortChange();
          },
          onFrame: (frame) => {
            if (conn === mine) append(frameLines(frame));
          },
          onClose: ({ opened }) => {
            if (conn !== mine) return;
            conn = null;
            set({ status: 'closed' });
            append([
              opened
                ? { kind: 'info', text: `--- monitor closed` }
                : {
                    kind: 'error',
                    text: `--- could not open ${port}: it is in use (a flash job or another monitor), gone, or the hub refused the key`,
                  },
            ]);
            deps.onPortChange();
          },
        });
        conn = mine;
      },

      close() {
        conn?.close();
      },

      send(text) {
        if (!conn || get().status !== 'open' || text === '') return;
        conn.write(text);
        append([{ kind: 'input', text: `> ${text.replace(/\r?\n$/, '')}` }]);
      },

      reset() {
        if (conn && get().status === 'open') conn.reset();
      },

      clear() {
        set({ lines: [] });
      },
    };
  });
}
