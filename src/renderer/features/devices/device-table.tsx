/** The device table (presentational): virtualized rows with status, id, name, last seen, firmware. */
import type { ReactNode } from 'react';
import type { DeviceObject } from '../../../shared/types';
import { StatusDot } from '../../components/status-dot';
import { VirtualList } from '../../components/virtual-list';
import { fwVersion } from '../../lib/device-fields';
import type { SortKey, SortSpec } from '../../lib/device-list';
import { absoluteTime, relativeTime } from '../../lib/relative-time';

export const ROW_HEIGHT = 44;

export interface DeviceTableProps {
  rows: readonly DeviceObject[];
  total: number;
  sort: SortSpec;
  now: number;
  deleting: string | null;
  onSort(key: SortKey): void;
  onOpen(id: string): void;
  onDelete(device: DeviceObject): void;
}

const COLUMNS: { key: SortKey | null; label: string; className: string }[] = [
  { key: 'online', label: 'Status', className: 'col-status' },
  { key: 'id', label: 'ID', className: 'col-id' },
  { key: 'name', label: 'Name', className: 'col-name' },
  { key: 'last_seen', label: 'Last seen', className: 'col-seen' },
  { key: 'fw', label: 'Firmware', className: 'col-fw' },
  { key: null, label: 'Actions', className: 'col-actions' },
];

export function DeviceTable(props: DeviceTableProps): ReactNode {
  const { sort } = props;
  return (
    <div
      className="table devices-table"
      role="table"
      aria-label="Devices"
      aria-rowcount={props.rows.length + 1}
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
        items={props.rows}
        rowHeight={ROW_HEIGHT}
        rowIndexOffset={1}
        ariaLabel="Device rows"
        className="table-body"
        testId="device-rows"
        getKey={(d) => d.id}
        rowProps={(d) => ({
          'data-testid': 'device-row',
          'data-device-id': d.id,
          'data-online': String(d.online),
          'aria-label': `${d.name !== '' ? d.name : d.id}, ${d.online ? 'online' : 'offline'}`,
        })}
        onActivate={(d) => props.onOpen(d.id)}
        onDeleteKey={(d) => props.onDelete(d)}
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
        renderRow={(d) => (
          <div className="table-row">
            <div role="cell" className="cell col-status">
              <StatusDot online={d.online} />
            </div>
            <div role="cell" className="cell col-id mono">
              <a
                href={`#/devices/${encodeURIComponent(d.id)}`}
                tabIndex={-1}
                onClick={(e) => {
                  e.preventDefault();
                  props.onOpen(d.id);
                }}
              >
                {d.id}
              </a>
            </div>
            <div role="cell" className="cell col-name" title={d.name}>
              {d.name !== '' ? d.name : <span className="muted">—</span>}
            </div>
            <div role="cell" className="cell col-seen" title={absoluteTime(d.last_seen)}>
              {d.online ? (
                <span className="text-ok">now</span>
              ) : (
                relativeTime(d.last_seen, props.now)
              )}
            </div>
            <div role="cell" className="cell col-fw mono">
              {fwVersion(d) || <span className="muted">—</span>}
            </div>
            <div role="cell" className="cell col-actions">
              <button
                type="button"
                className="btn btn-icon btn-ghost btn-danger-ghost"
                tabIndex={-1}
                aria-label={`Delete ${d.id}`}
                title="Delete (Del)"
                data-testid="delete-device"
                disabled={props.deleting === d.id}
                onClick={() => props.onDelete(d)}
              >
                <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
                  <path
                    d="M6 2h4l1 1h3v1.5H2V3h3l1-1Zm-2.5 4h9l-.7 8H4.2l-.7-8Z"
                    fill="currentColor"
                  />
                </svg>
              </button>
            </div>
          </div>
        )}
      />
    </div>
  );
}
