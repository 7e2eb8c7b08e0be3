/** One device: header facts, its password on demand, shadow, RPC, console and events. */
import { useState, type ReactNode } from 'react';
import { useApp, useConnection, useDetail, useOta, useRoute, useSession } from '../../app-context';
import { SecretField } from '../../components/secret-field';
import { StatusDot } from '../../components/status-dot';
import { useNow } from '../../components/use-now';
import { displayName, fwVersion } from '../../lib/device-fields';
import { reportedFwId } from '../../lib/ota-format';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import { isStale } from '../../stores/connection-store';
import { AclTab } from './acl-tab';
import { ConsolePanel } from './console-panel';
import { DataTab } from './data-tab';
import { EventsPanel } from './events-panel';
import { OtaPanel } from './ota-panel';
import { RpcPanel } from './rpc-panel';
import { ShadowPanel } from './shadow-panel';

export function DeviceDetailScreen({ id }: { id: string }): ReactNode {
  const app = useApp();
  const a = app.detail.getState();
  const navigate = useRoute((s) => s.navigate);
  const status = useDetail((s) => s.status);
  const device = useDetail((s) => s.device);
  const loadError = useDetail((s) => s.loadError);
  const draft = useDetail((s) => s.draft);
  const draftDirty = useDetail((s) => s.draftDirty);
  const draftError = useDetail((s) => s.draftError);
  const remoteChanged = useDetail((s) => s.remoteChanged);
  const saving = useDetail((s) => s.saving);
  const conflict = useDetail((s) => s.conflict);
  const rpcMethod = useDetail((s) => s.rpcMethod);
  const rpcParams = useDetail((s) => s.rpcParams);
  const rpcInputError = useDetail((s) => s.rpcInputError);
  const rpcPending = useDetail((s) => s.rpcPending);
  const rpcOutcome = useDetail((s) => s.rpcOutcome);
  const consoleLines = useDetail((s) => s.console);
  const events = useDetail((s) => s.events);
  const now = useNow(5000);
  const stale = useConnection(isStale);
  const deviceUrl = useSession((s) => s.deviceUrl);
  const ota = useOta((s) => s);
  const [tab, setTab] = useState<'overview' | 'data' | 'acl'>('overview');

  const back = (
    <a
      href="#/devices"
      className="back-link"
      onClick={(e) => {
        e.preventDefault();
        navigate({ name: 'devices' });
      }}
    >
      ← Devices
    </a>
  );

  if (status === 'loading' || status === 'idle') {
    return (
      <main className="page">
        {back}
        <p className="muted" aria-busy="true">
          Loading {id}…
        </p>
      </main>
    );
  }
  if (status === 'missing' || status === 'error' || !device) {
    return (
      <main className="page">
        {back}
        <div className="notice notice-error" role="alert" data-testid="device-missing">
          {status === 'missing'
            ? `There is no device ${id} on this hub.`
            : `Could not load ${id}: ${loadError ?? 'unknown error'}`}
        </div>
      </main>
    );
  }

  return (
    <main
      className="page page-detail"
      aria-labelledby="device-title"
      data-testid="device-detail"
      data-device-id={device.id}
    >
      {back}
      <div className="detail-head">
        <h1 id="device-title">
          <StatusDot online={device.online} stale={stale} /> {displayName(device)}
        </h1>
        <dl className="facts">
          <div>
            <dt>ID</dt>
            <dd className="mono" data-testid="detail-id">
              {device.id}
            </dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd
              data-testid="detail-online"
              data-online={String(device.online)}
              data-stale={String(stale)}
            >
              {device.online ? 'online' : 'offline'}
              {stale && <span className="muted"> (when last heard)</span>}
            </dd>
          </div>
          <div>
            <dt>Last seen</dt>
            <dd title={absoluteTime(device.last_seen)}>
              {device.online && !stale
                ? 'now'
                : device.online
                  ? 'unknown'
                  : relativeTime(device.last_seen, now)}
            </dd>
          </div>
          <div>
            <dt>Firmware</dt>
            <dd className="mono">{fwVersion(device) || '—'}</dd>
          </div>
        </dl>
        {device.token !== '' && (
          <SecretField
            label="Device password (token)"
            value={device.token}
            onCopy={app.copyText}
            testId="device-token"
            hint={
              <>
                Firmware connects to <span className="mono">{deviceUrl}</span> with this password.
              </>
            }
          />
        )}
      </div>
      {status === 'deleted' && (
        <div className="notice notice-error" role="alert" data-testid="device-deleted">
          This device was deleted on the hub.
        </div>
      )}
      <div className="tabs" role="tablist" aria-label="Device sections">
        {(
          [
            ['overview', 'Overview'],
            ['data', 'Data'],
            ['acl', 'ACL'],
          ] as const
        ).map(([name, label]) => (
          <button
            key={name}
            type="button"
            role="tab"
            className="tab"
            aria-selected={tab === name}
            onClick={() => setTab(name)}
            data-testid={`device-tab-${name}`}
          >
            {label}
          </button>
        ))}
      </div>
      {tab === 'data' && <DataTab device={device} />}
      {tab === 'acl' && <AclTab device={device} onOpenData={() => setTab('data')} />}
      <div className="detail-grid" hidden={tab !== 'overview'}>
        <ShadowPanel
          device={device}
          now={now}
          draft={draft}
          draftDirty={draftDirty}
          draftError={draftError}
          remoteChanged={remoteChanged}
          saving={saving}
          conflict={conflict}
          onDraft={a.setDraft}
          onSave={() => {
            void a.saveDesired().then((saved) => {
              if (saved)
                app.toasts.getState().push({ kind: 'success', message: 'Desired state saved' });
            });
          }}
          onReset={a.resetDraft}
          onLoadLatest={() => void a.loadLatest()}
        />
        <RpcPanel
          online={device.online}
          method={rpcMethod}
          params={rpcParams}
          inputError={rpcInputError}
          pending={rpcPending}
          outcome={rpcOutcome}
          onMethod={a.setRpcMethod}
          onParams={a.setRpcParams}
          onCall={() => void a.callRpc()}
        />
        <OtaPanel
          online={device.online}
          fwId={reportedFwId(device)}
          fwVersion={fwVersion(device)}
          library={ota.library}
          jobs={ota.jobs}
          bootState={ota.bootState}
          starting={ota.starting}
          upload={ota.upload}
          startError={ota.startError}
          acting={ota.acting}
          actionError={ota.actionError}
          onStart={(source, force) => void ota.start(source, force)}
          onCancel={(job) => void ota.cancel(job)}
          onCommit={() => void ota.commit()}
          onRevert={() => void ota.revert()}
          onChange={ota.clearStartError}
        />
        <ConsolePanel lines={consoleLines} onClear={a.clearConsole} />
        <EventsPanel events={events} />
      </div>
    </main>
  );
}
