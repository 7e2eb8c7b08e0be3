/**
 * The device table: virtualized rows with status, id, name, last seen, firmware. The table gets
 * only the ordered ids; each row on screen subscribes to its own device summary, so a change to
 * one device re-renders one row and devices scrolled out of view cost nothing.
 */
import { memo, type ReactNode } from 'react';
import { useConnection, useDevices } from '../../app-context';
import { StatusDot } from '../../components/status-dot';
import { VirtualList } from '../../components/virtual-list';
import type { SortKey, SortSpec } from '../../lib/device-list';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import { isStale } from '../../stores/connection-store';

export const ROW_HEIGHT = 44;

export interface DeviceTableProps {
  ids: readonly string[];
  total: number;
  sort: SortSpec;
  now: number;
  deleting: string | null;
  onSort(key: SortKey): void;
  onOpen(id: string): void;
  onDelete(id: string): void;
}

const COLUMNS: { key: SortKey | null; label: string; className: string }[] = [
  { key: 'online', label: 'Status', className: 'col-status' },
  { key: 'id', label: 'ID', className: 'col-id' },
  { key: 'name', label: 'Name', className: 'col-name' },
  { key: 'last_seen', label: 'Last seen', className: 'col-seen' },
  { key: 'fw', label: 'Firmware', className: 'col-fw' },
  { key: null, label: 'Actions', className: 'col-actions' },
];

/** Ids for aria-labelledby: a row is announced by its name (or id) and status. */
const cellId = (id: string, what: string): string => `row-${what}-${id}`;

export function DeviceTable(props: DeviceTableProps): ReactNode {
  const { sort } = props;
  return (
    <div
      className="table devices-table"
      role="table"
      aria-label="Devices"
      aria-rowcount={props.ids.length + 1}
      data-testid="device-table"
    >
      <div className="table-head" role="rowgroup">
        <div className="table-row table-row-head" role="row" aria-rowindex={1}>
          {COLUMNS.map((c) => {
            const active = c.key !== null && sort.key === c.key;
            return (
              <div
                key={c.label}
                role="columnheader"
                className={`cell ${c.className}`}
                aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                {c.key === null ? (
                  <span className="sr-only">{c.label}</span>
                ) : (
                  <button
                    type="button"
                    className="sort-btn"
                    onClick={() => props.onSort(c.key as SortKey)}
                  >
                    {c.label}
                    <span className="sort-arrow" aria-hidden="true">
                      {active ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                )}
              </div>
            );
          })}
        </div>
      </div>
      <VirtualList
        items={props.ids}
        rowHeight={ROW_HEIGHT}
        rowIndexOffset={1}
        ariaLabel="Device rows"
        className="table-body"
        testId="device-rows"
        getKey={(id) => id}
        rowProps={(id) => ({
          'aria-labelledby': `${cellId(id, 'name')} ${cellId(id, 'status')}`,
        })}
        onActivate={(id) => props.onOpen(id)}
        onDeleteKey={(id) => props.onDelete(id)}
        empty={
          <div className="empty" data-testid="devices-empty">
            {props.total === 0 ? (
              <>
                <strong>No devices yet.</strong>
                <span>Add a device, then give its token to the firmware.</span>
              </>
            ) : (
              <strong>No devices match the search.</strong>
            )}
          </div>
        }
        renderRow={(id) => (
          <DeviceRow
            id={id}
            now={props.now}
            deleting={props.deleting === id}
            onOpen={props.onOpen}
            onDelete={props.onDelete}
          />
        )}
      />
    </div>
  );
}

interface DeviceRowProps {
  id: string;
  now: number;
  deleting: boolean;
  onOpen(id: string): void;
  onDelete(id: string): void;
}

/** One row; re-renders only when its own device (or liveness, or the clock) changes. */
const DeviceRow = memo(function DeviceRow({
  id,
  now,
  deleting,
  onOpen,
  onDelete,
}: DeviceRowProps): ReactNode {
  const d = useDevices((s) => s.devices.get(id));
  const stale = useConnection(isStale);
  if (!d) return null;
  return (
    <div
      className="table-row"
      data-testid="device-row"
      data-device-id={d.id}
      data-online={String(d.online)}
      data-stale={String(stale)}
    >
      <div role="cell" className="cell col-status">
        <StatusDot online={d.online} stale={stale} id={cellId(d.id, 'status')} />
      </div>
      <div role="cell" className="cell col-id mono">
        <a
          href={`#/devices/${encodeURIComponent(d.id)}`}
          tabIndex={-1}
          onClick={(e) => {
            e.preventDefault();
            onOpen(d.id);
          }}
        >
          {d.id}
        </a>
      </div>
      <div role="cell" className="cell col-name" title={d.name} id={cellId(d.id, 'name')}>
        {d.name !== '' ? d.name : <span className="muted">{d.id}</span>}
      </div>
      <div role="cell" className="cell col-seen" title={absoluteTime(d.last_seen)}>
        {d.online && !stale ? (
          <span className="text-ok">now</span>
        ) : d.online ? (
          <span className="muted">unknown</span>
        ) : (
          relativeTime(d.last_seen, now)
        )}
      </div>
      <div role="cell" className="cell col-fw mono">
        {d.fw || <span className="muted">—</span>}
      </div>
      <div role="cell" className="cell col-actions">
        <button
          type="button"
          className="btn btn-icon btn-ghost btn-danger-ghost"
          tabIndex={-1}
          aria-label={`Delete ${d.id}`}
          title="Delete (Del)"
          data-testid="delete-device"
          disabled={deleting}
          onClick={() => onDelete(d.id)}
        >
          <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path d="M6 2h4l1 1h3v1.5H2V3h3l1-1Zm-2.5 4h9l-.7 8H4.2l-.7-8Z" fill="currentColor" />
          </svg>
        </button>
      </div>
    </div>
  );
});
