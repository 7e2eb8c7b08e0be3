/**
 * Customers (PROTOCOL.md 4 customer API, issue 10): sign-up without a key that never hands out a
 * second key to an existing account, the customer's own view and writes, management, and who a
 * presented customer key or `email:password` belongs to. Sizes and the cap come from config.
 */
import { HubError } from '../../shared/errors';
import type { CustomerLimits } from '../config';
import type { Json, JsonObject } from '../../shared/types';
import type { CustomerPatch, CustomerRecord, CustomersRepo } from '../store/customers-repo';
import { normalizeEmail } from './email';
import { hashPassword, MAX_PASSWORD_BYTES, verifyPassword } from './password-hash';

/** A write as the API takes it: each key given replaces that field (PROTOCOL.md 4). */
export interface CustomerWrite {
  email?: string;
  app_id?: string;
  pubkeys?: Record<string, JsonObject>;
  cconfig?: Json;
  /** A string sets the Basic-auth password; '' or null removes it. */
  password?: string | null;
}

export interface CustomerServiceOptions {
  limits: CustomerLimits;
  /** `limits.maxCustomerMetaBytes`: cconfig and pubkeys, each serialized. */
  maxMetaBytes: number;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

export class CustomerService {
  constructor(
    private readonly repo: CustomersRepo,
    private readonly opts: CustomerServiceOptions,
  ) {}

  /** The canonical email, or a 400 naming the field. */
  email(raw: string): string {
    const email = normalizeEmail(raw);
    if (email === null)
      throw new HubError('validation_failed', `email: '${raw}' is not an email address`);
    return email;
  }

  get(id: string): CustomerRecord {
    const c = this.repo.get(id);
    if (!c) throw new HubError('customer_not_found', `no customer '${id}'`);
    return c;
  }

  exists(id: string): boolean {
    return this.repo.get(id) !== undefined;
  }

  list(): CustomerRecord[] {
    return this.repo.list();
  }

  /**
   * Sign-up without a key (`/newcustomer`, `/invite`): the new customer, or null when the email
   * has an account already. Then nothing is created and no key is handed out: a link for it
   * would let anyone who knows an address take the account over.
   */
  signUp(rawEmail: string, appId: string): CustomerRecord | null {
    const email = this.email(rawEmail);
    if (this.repo.byEmail(email)) return null;
    return this.insert({ email, app_id: appId });
  }

  /**
   * Management create (`POST /api/v2/customers`): 409 when the email is taken. `token`: a given
   * customer key (`fleetbench import`), 409 when another customer has it.
   */
  async create(
    write: CustomerWrite & { email: string },
    id?: string,
    token?: string,
  ): Promise<CustomerRecord> {
    const email = this.email(write.email);
    if (this.repo.byEmail(email)) {
      throw new HubError('customer_exists', `a customer with email '${email}' exists`);
    }
    const patch = await this.patchFrom({ ...write, email });
    // The hash above awaited: check again, the email may have been taken meanwhile.
    if (this.repo.byEmail(email)) {
      throw new HubError('customer_exists', `a customer with email '${email}' exists`);
    }
    if (id !== undefined && this.repo.get(id)) {
      throw new HubError('conflict', `customer '${id}' exists`);
    }
    if (token !== undefined && this.repo.byToken(token)) {
      throw new HubError('conflict', 'token: another customer has this key');
    }
    return this.insert({
      ...patch,
      email,
      ...(id !== undefined && { id }),
      ...(token !== undefined && { token }),
    });
  }

  /**
   * Applies a write: each given key replaces the stored field (`pubkeys` replaced, not merged).
   * The customer's own `POST /customer` passes only `pubkeys`, `cconfig` and `password`; email
   * and app_id are read-only there (the route drops them).
   */
  async update(id: string, write: CustomerWrite): Promise<CustomerRecord> {
    this.get(id);
    const patch = await this.patchFrom(write);
    if (patch.email !== undefined) {
      const other = this.repo.byEmail(patch.email);
      if (other && other.id !== id) {
        throw new HubError('customer_exists', `a customer with email '${patch.email}' exists`);
      }
    }
    const updated = this.repo.update(id, patch, nowSec());
    if (!updated) throw new HubError('customer_not_found', `no customer '${id}'`);
    return updated;
  }

  remove(id: string): void {
    if (!this.repo.remove(id)) throw new HubError('customer_not_found', `no customer '${id}'`);
  }

  /** The customer whose key this is (`access_token` or Bearer), or a 401. */
  byToken(token: string): CustomerRecord {
    const c = this.repo.byToken(token);
    if (!c) throw new HubError('unauthorized', 'invalid customer key');
    return c;
  }

  /** The customer for HTTP Basic `email:password`, or a 401 that does not say which part was wrong. */
  async byPassword(rawEmail: string, password: string): Promise<CustomerRecord> {
    const email = normalizeEmail(rawEmail);
    const c = email === null ? undefined : this.repo.byEmail(email);
    const ok =
      Buffer.byteLength(password) <= MAX_PASSWORD_BYTES &&
      (await verifyPassword(password, c?.password_hash ?? null));
    if (!c || !ok) throw new HubError('unauthorized', 'invalid email or password');
    // The password may have changed or the customer gone while the hash ran.
    const now = this.repo.get(c.id);
    if (!now || now.password_hash !== c.password_hash) {
      throw new HubError('unauthorized', 'invalid email or password');
    }
    return now;
  }

  private insert(
    fields: { id?: string; email: string; token?: string } & Omit<CustomerPatch, 'email'>,
  ): CustomerRecord {
    if (this.repo.count() >= this.opts.limits.maxCustomers) {
      throw new HubError(
        'customer_limit',
        `the hub holds ${this.opts.limits.maxCustomers} customers (customers.maxCustomers)`,
      );
    }
    return this.repo.insert(fields, nowSec());
  }

  private async patchFrom(write: CustomerWrite): Promise<CustomerPatch> {
    const patch: CustomerPatch = {};
    if (write.email !== undefined) patch.email = this.email(write.email);
    if (write.app_id !== undefined) patch.app_id = write.app_id;
    if (write.cconfig !== undefined) {
      this.checkSize('cconfig', write.cconfig);
      patch.cconfig = write.cconfig;
    }
    if (write.pubkeys !== undefined) {
      this.checkSize('pubkeys', write.pubkeys);
      patch.pubkeys = write.pubkeys;
    }
    if (write.password !== undefined) {
      if (write.password !== null && Buffer.byteLength(write.password) > MAX_PASSWORD_BYTES) {
        throw new HubError(
          'validation_failed',
          `password: longer than ${MAX_PASSWORD_BYTES} bytes`,
        );
      }
      patch.password_hash =
        write.password === null || write.password === ''
          ? null
          : await hashPassword(write.password);
    }
    return patch;
  }

  private checkSize(field: string, value: Json | Record<string, JsonObject>): void {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    if (bytes > this.opts.maxMetaBytes) {
      throw new HubError(
        'customer_meta_too_large',
        `${field} is ${bytes} bytes; at most ${this.opts.maxMetaBytes} (limits.maxCustomerMetaBytes)`,
      );
    }
  }
}
