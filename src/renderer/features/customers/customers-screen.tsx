/**
 * Customers page (PROTOCOL.md 4 and 8): every customer with their app, the devices they reach
 * (their `pubkeys` matched to devices by ACL `public_key`), link / unlink a device, delete with a
 * confirmation, and an invite that shows the sign-in link to copy or scan (no mail server on a
 * LAN, and the QR code is drawn in the page: no network).
 */
import { useState, type ReactNode } from 'react';
import { appSignInLink, DEFAULT_APP_ID } from '../../../shared/customer-app';
import { useApp, useApps, useCustomers } from '../../app-context';
import type { CustomerView } from '../../api/customers-api';
import { ActionErrorNotice } from '../../components/action-error';
import { ConfirmDelete } from '../../components/confirm-delete';
import { CopyField } from '../../components/copy-field';
import { QrCode } from '../../components/qr-code';
import { useNow } from '../../components/use-now';
import {
  linkableDevices,
  linkedKeys,
  toUnixSeconds,
  type KeyedDevice,
} from '../../lib/customer-devices';
import { absoluteTime, relativeTime } from '../../lib/relative-time';
import type { ActionError } from '../../stores/devices-store';
import './customer-pages.css';

export function CustomersScreen({ origin }: { origin: string }): ReactNode {
  const app = useApp();
  const a = app.customers.getState();
  const customers = useCustomers((s) => s.customers);
  const devices = useCustomers((s) => s.devices);
  const loaded = useCustomers((s) => s.loaded);
  const loadError = useCustomers((s) => s.loadError);
  const inviting = useCustomers((s) => s.inviting);
  const inviteError = useCustomers((s) => s.inviteError);
  const invited = useCustomers((s) => s.invited);
  const rowErrors = useCustomers((s) => s.rowErrors);
  const busy = useCustomers((s) => s.busy);
  const apps = useApps((s) => s.apps);
  const [email, setEmail] = useState('');
  const [appId, setAppId] = useState(DEFAULT_APP_ID);
  const [confirm, setConfirm] = useState<string | null>(null);
  const now = useNow(30_000);

  return (
    <main
      className="page page-customers"
      aria-labelledby="customers-title"
      data-testid="customers-page"
    >
      <div className="toolbar">
        <h1 id="customers-title">Customers</h1>
        <span className="muted">
          {customers.length === 1 ? '1 customer' : `${customers.length} customers`}
        </span>
        <div className="toolbar-spacer" />
        <button type="button" className="btn" onClick={() => void a.refresh()}>
          Refresh
        </button>
      </div>
      <section className="card panel stack" aria-labelledby="invite-title">
        <header className="panel-head">
          <h2 id="invite-title">Invite a customer</h2>
          <span className="muted small">
            the link signs them in to the app; no mail is sent, hand it over yourself
          </span>
        </header>
        <form
          className="invite-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (email.trim() === '') return;
            void a.invite(email, appId).then((ok) => {
              if (ok) setEmail('');
            });
          }}
        >
          <div className="field">
            <label htmlFor="invite-email" className="small">
              Email
            </label>
            <input
              id="invite-email"
              className="input"
              type="email"
              required
              placeholder="customer@example.com"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              data-testid="invite-email"
            />
          </div>
          <div className="field">
            <label htmlFor="invite-app" className="small">
              App
            </label>
            <select
              id="invite-app"
              className="input"
              value={appId}
              onChange={(e) => setAppId(e.target.value)}
              data-testid="invite-app"
            >
              {apps.map((x) => (
                <option key={x.app_id} value={x.app_id}>
                  {x.builtin ? 'Built-in app' : x.app_id}
                </option>
              ))}
            </select>
          </div>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={inviting || email.trim() === ''}
            data-testid="invite-submit"
          >
            {inviting ? 'Inviting…' : 'Invite'}
          </button>
        </form>
        <ActionErrorNotice error={inviteError} testId="invite-error" />
        {invited && (
          <div className="invite-result" data-testid="invite-result">
            {invited.link !== null ? (
              <>
                <div className="stack">
                  <CopyField
                    label={`Sign-in link for ${invited.customer.email}`}
                    value={invited.link}
                    onCopy={app.copyText}
                    testId="invite-link"
                  />
                  <p className="muted small">
                    Anyone with this link signs in as this customer: send it privately. Link a
                    device below so they see it.
                  </p>
                </div>
                <div className="qr">
                  <QrCode text={invited.link} testId="invite-qr" />
                </div>
              </>
            ) : (
              <p className="notice notice-warn" data-testid="invite-no-link">
                The hub gave no sign-in link for this email.
              </p>
            )}
            <button type="button" className="btn btn-ghost" onClick={a.clearInvite}>
              Done
            </button>
          </div>
        )}
      </section>
      {loadError && (
        <p className="notice notice-error" role="alert">
          Could not load the customers: {loadError}
        </p>
      )}
      <section className="card panel">
        {loaded && customers.length === 0 ? (
          <p className="muted" data-testid="customers-empty">
            No customers yet. Invite one above; they reach only the devices you link to them.
          </p>
        ) : (
          <table className="cust-table" data-testid="customers-table">
            <thead>
              <tr>
                <th>Email</th>
                <th>App</th>
                <th>Devices</th>
                <th>Created</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {customers.map((c) => (
                <CustomerRow
                  key={c.id}
                  c={c}
                  devices={devices}
                  origin={origin}
                  now={now}
                  busy={busy[c.id]}
                  error={rowErrors[c.id] ?? null}
                  confirming={confirm === c.id}
                  onConfirm={(yes) => setConfirm(yes ? c.id : null)}
                  onDelete={() => {
                    setConfirm(null);
                    void a.remove(c.id);
                  }}
                  onLink={(key, linked) => void a.setLinked(c.id, key, linked)}
                />
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}

function CustomerRow(props: {
  c: CustomerView;
  devices: readonly KeyedDevice[];
  origin: string;
  now: number;
  busy: 'link' | 'delete' | undefined;
  error: ActionError | null;
  confirming: boolean;
  onConfirm(yes: boolean): void;
  onDelete(): void;
  onLink(key: string, linked: boolean): void;
}): ReactNode {
  const { c } = props;
  const keys = linkedKeys(c.pubkeys, props.devices);
  const linkable = linkableDevices(c.pubkeys, props.devices);
  const created = toUnixSeconds(c.created_at);
  const count = keys.reduce((n, k) => n + k.devices.length, 0);
  return (
    <>
      <tr data-testid="customer-row" data-id={c.id} data-email={c.email} data-devices={count}>
        <td>
          <strong>{c.email}</strong>
          <div className="muted small mono">{c.id}</div>
        </td>
        <td className="mono small">
          {c.app_id === '' || c.app_id === DEFAULT_APP_ID ? 'built-in' : c.app_id}
        </td>
        <td>
          <div className="linked" data-testid="customer-devices">
            {keys.length === 0 && <span className="muted small">none</span>}
            {keys.map((k) => (
              <span
                key={k.key}
                className="chip"
                data-testid="customer-device"
                data-key={k.key}
                title={`public key ${k.key}`}
              >
                {k.devices.length > 0 ? (
                  k.devices.map((d) => d.name || d.id).join(', ')
                ) : (
                  <span className="muted">unknown key {k.key.slice(0, 8)}…</span>
                )}
                <button
                  type="button"
                  className="btn btn-ghost"
                  aria-label={`Unlink ${k.devices[0]?.id ?? k.key}`}
                  disabled={props.busy !== undefined}
                  onClick={() => props.onLink(k.key, false)}
                  data-testid="customer-unlink"
                >
                  ✕
                </button>
              </span>
            ))}
            {linkable.length > 0 && (
              <select
                className="input"
                aria-label={`Link a device to ${c.email}`}
                value=""
                disabled={props.busy !== undefined}
                onChange={(e) => {
                  if (e.target.value !== '') props.onLink(e.target.value, true);
                }}
                data-testid="customer-link"
              >
                <option value="">+ Link device…</option>
                {linkable.map((d) => (
                  <option key={d.id} value={d.publicKey}>
                    {d.name && d.name !== d.id ? `${d.name} (${d.id})` : d.id}
                  </option>
                ))}
              </select>
            )}
            {linkable.length === 0 && props.devices.every((d) => d.publicKey === '') && (
              <span className="muted small">
                give a device a public key on its ACL tab to link it
              </span>
            )}
          </div>
        </td>
        <td className="nowrap" title={created ? absoluteTime(created) : undefined}>
          {created ? relativeTime(created, props.now) : '—'}
        </td>
        <td className="nowrap">
          <div className="row-actions">
            {c.token !== '' && (
              <a
                className="btn btn-small"
                href={appSignInLink(props.origin, c.token, c.app_id || DEFAULT_APP_ID)}
                target="_blank"
                rel="noreferrer"
                title="Opens the app signed in as this customer"
              >
                Open app
              </a>
            )}
            <ConfirmDelete
              testId="customer"
              confirming={props.confirming}
              deleting={props.busy === 'delete'}
              disabled={props.busy !== undefined}
              onConfirm={props.onConfirm}
              onDelete={props.onDelete}
            />
          </div>
        </td>
      </tr>
      {props.error && (
        <tr>
          <td colSpan={5}>
            <ActionErrorNotice error={props.error} testId="customer-row-error" />
          </td>
        </tr>
      )}
    </>
  );
}
