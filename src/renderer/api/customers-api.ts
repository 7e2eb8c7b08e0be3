/**
 * The dashboard's client for customers and customer web apps (PROTOCOL.md 4 and 8, master key):
 * `GET /customers`, `POST/DELETE /customers/:id`, the management invite, and `GET/POST /m`,
 * `DELETE /m/:app_id`. Like the other api/ modules it is the only place these pages do I/O: answers
 * are checked against the schemas below, failures are ApiErrors with the hub's catalog code.
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import { DEFAULT_APP_ID } from '../../shared/customer-app';
import type { JsonObject } from '../../shared/types';
import { ApiError } from './api-error';
import {
  answerError,
  hubJsonCaller,
  noAnswerError,
  parseAnswerBody,
  type HubClientOptions,
} from './hub-answer';
import { xhrUpload, type UploadProgress, type UploadTransport } from './ota-api';

/** Dates as the hub sends them: Unix seconds or an ISO text (shown either way). */
const When = Type.Union([Type.Number(), Type.String()]);

export const CustomerSchema = Type.Object({
  id: Type.Union([Type.String(), Type.Number()]),
  app_id: Type.Optional(Type.String()),
  email: Type.String(),
  token: Type.Optional(Type.String()),
  pubkeys: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  cconfig: Type.Optional(Type.Unknown()),
  created_at: Type.Optional(When),
  updated_at: Type.Optional(When),
  /** Management answers add the sign-in link (src/shared/customers.ts `ManagedCustomer`). */
  link: Type.Optional(Type.String()),
});

/** src/shared/apps.ts `AppObject`, lenient where the page can do without a field. */
export const AppSchema = Type.Object({
  app_id: Type.String({ minLength: 1 }),
  files: Type.Optional(Type.Number()),
  bytes: Type.Optional(Type.Number()),
  created: Type.Optional(When),
  builtin: Type.Optional(Type.Boolean()),
});

export interface CustomerView {
  id: string;
  app_id: string;
  email: string;
  token: string;
  pubkeys: Record<string, JsonObject>;
  created_at: number | string | null;
  /** The sign-in link (management answers); '' when the hub sent none. */
  link: string;
}

export type AppView = Type.Static<typeof AppSchema>;

export interface InviteResult {
  customer: CustomerView;
  /** The sign-in link; null when the hub gave none. */
  link: string | null;
}

function readCustomer(value: unknown): CustomerView | null {
  if (!Value.Check(CustomerSchema, value)) return null;
  const raw = value as Type.Static<typeof CustomerSchema>;
  return {
    id: String(raw.id),
    app_id: raw.app_id ?? '',
    email: raw.email,
    token: raw.token ?? '',
    pubkeys: (raw.pubkeys ?? {}) as Record<string, JsonObject>,
    created_at: raw.created_at ?? null,
    link: raw.link ?? '',
  };
}

const readApp = (value: unknown): AppView | null =>
  Value.Check(AppSchema, value) ? (value as AppView) : null;

const bad = (what: string): ApiError => new ApiError(0, 200, `the hub sent an unexpected ${what}`);

export interface CustomersApi {
  listCustomers(): Promise<CustomerView[]>;
  /** Replaces the given top-level keys (PROTOCOL.md 4: `pubkeys` is replaced, not merged). */
  updateCustomer(id: string, patch: { pubkeys: Record<string, JsonObject> }): Promise<CustomerView>;
  deleteCustomer(id: string): Promise<void>;
  /** `POST /customers {"email","app_id"}`: a new customer with its sign-in link. */
  invite(email: string, appId: string): Promise<InviteResult>;
  listApps(): Promise<AppView[]>;
  uploadApp(file: Blob, name: string, onProgress?: (p: UploadProgress) => void): Promise<string>;
  deleteApp(appId: string): Promise<void>;
}

export interface CustomersApiOptions extends HubClientOptions {
  upload?: UploadTransport;
}

/** An app zip over a slow link. */
export const APP_UPLOAD_TIMEOUT_MS = 300_000;

export function createCustomersApi(o: CustomersApiOptions): CustomersApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const upload = o.upload ?? xhrUpload;
  const enc = encodeURIComponent;
  const request = hubJsonCaller(o, 15_000, 'the hub did not answer in time');

  function listOf<T>(value: unknown, read: (v: unknown) => T | null, what: string): T[] {
    if (!Array.isArray(value)) throw bad(what);
    return value.map(read).filter((x): x is T => x !== null);
  }

  return {
    async listCustomers() {
      return listOf(await request('GET', '/customers'), readCustomer, 'customer list');
    },
    async updateCustomer(id, patch) {
      const c = readCustomer(await request('POST', `/customers/${enc(id)}`, patch));
      if (!c) throw bad('customer');
      return c;
    },
    async deleteCustomer(id) {
      await request('DELETE', `/customers/${enc(id)}`);
    },
    async invite(email, appId) {
      // The built-in app is the customer's app when `app_id` is '' (src/shared/customers.ts).
      const body: JsonObject = appId === DEFAULT_APP_ID ? { email } : { email, app_id: appId };
      const customer = readCustomer(await request('POST', '/customers', body));
      if (!customer) throw bad('customer');
      return { customer, link: customer.link !== '' ? customer.link : null };
    },
    async listApps() {
      return listOf(await request('GET', '/m'), readApp, 'app list');
    },
    async uploadApp(file, name, onProgress) {
      const form = new FormData();
      form.append('file', file, name);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), APP_UPLOAD_TIMEOUT_MS);
      let answer: { status: number; text: string };
      try {
        answer = await upload({
          url: `${base}/api/v2/m`,
          method: 'POST',
          headers: { Authorization: `Bearer ${o.key}`, Accept: 'application/json' },
          body: form,
          signal: controller.signal,
          ...(onProgress ? { onProgress } : {}),
        });
      } catch (e) {
        throw noAnswerError(e, controller.signal.aborted, 'the upload did not finish in time');
      } finally {
        clearTimeout(timer);
      }
      const parsed = parseAnswerBody(answer.text);
      if (answer.status < 200 || answer.status >= 300) throw answerError(answer.status, parsed);
      const id = (parsed as { app_id?: unknown } | undefined)?.app_id;
      if (typeof id !== 'string' || id === '') throw bad('upload answer');
      return id;
    },
    async deleteApp(appId) {
      await request('DELETE', `/m/${enc(appId)}`);
    },
  };
}
