/**
 * Customers as the REST API carries them (PROTOCOL.md 4 customer API, issue 10). Shared by the
 * hub and the dashboard; no Node, DOM or Electron imports.
 */
import type { Json, JsonObject } from './types';

/** The customer object of `GET /customer` (PROTOCOL.md 4). Never a password. */
export interface CustomerObject {
  id: string;
  /** The app the customer signed up through (`/invite` `app_id`); '' when none. */
  app_id: string;
  email: string;
  /** The customer key: `?access_token=` or `Authorization: Bearer`. URL-safe (base64url). */
  token: string;
  /** Device public keys (device ACL `public_key`) this customer holds, each with its metadata. */
  pubkeys: Record<string, JsonObject>;
  /** Customer metadata, any JSON, at most `limits.maxCustomerMetaBytes` (32 KB) serialized. */
  cconfig: Json;
  /** Unix seconds. */
  created_at: number;
  updated_at: number;
}

/** What management routes (`/api/v2/customers`, master key) return: the object and more (ours). */
export interface ManagedCustomer extends CustomerObject {
  /** Whether HTTP Basic `email:password` works for this customer. */
  has_password: boolean;
  /** Sign-in link of the customer's app (the built-in app when `app_id` is ''): `<origin>/a/<app>/?<token>`. */
  link: string;
}
