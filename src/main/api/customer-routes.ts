/**
 * The customer API (PROTOCOL.md 4, issue 10): sign-up without a key (`/newcustomer`, `/invite`),
 * a customer's own object (`/customer`, customer key or HTTP Basic), and management under
 * `/api/v2/customers` (master key). Who may call each route is in route-access.ts.
 *
 * Sign-up never hands out a link for an email that has an account: then the answer is 200 `{}`
 * (no account takeover by knowing an address). With no mail server on a LAN, links go back to
 * the caller. Both sign-up routes are rate limited per client address and count against
 * `customers.maxCustomers`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import { appSignInLink, DEFAULT_APP_ID } from '../../shared/customer-app';
import type { ManagedCustomer } from '../../shared/customers';
import type { Json, JsonObject } from '../../shared/types';
import type { CustomerLimits } from '../config';
import type { CustomerService, CustomerWrite } from '../customers/customer-service';
import { inviteLink } from '../customers/invite-link';
import { customerObject, type CustomerRecord } from '../store/customers-repo';
import { parseWith } from '../validate';
import { queryParam } from '../gateway/upgrade-auth';
import { AddressRateLimit } from './address-rate-limit';
import { requestKey } from './auth';
import {
  CustomerCreateBody,
  CustomerIdParams,
  CustomerManageBody,
  CustomerSelfBody,
  CustomerTokenBody,
  InviteBody,
  NewCustomerQuery,
} from './customer-schemas';

export interface CustomerRoutesDeps {
  customers: CustomerService;
  limits: CustomerLimits;
  /**
   * `http://<host>:<port>` devices and phones on the LAN reach the hub at: management links use
   * it when the dashboard itself talks to the hub over loopback (a link to 127.0.0.1 opens
   * nothing on a phone that scans its QR code).
   */
  lanOrigin: () => string;
}

// Host header as a URL authority: a name, IPv4, or [IPv6], and a port. Anything else is refused
// rather than pasted into a link.
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The hub's own origin as the client reached it: protocol + Host. */
function requestOrigin(req: FastifyRequest): string {
  const host = req.headers.host ?? '';
  if (!HOST.test(host)) throw new HubError('bad_request', 'the Host header is not a host name');
  return `${req.protocol}://${host}`;
}

function isLoopback(hostname: string): boolean {
  return /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i.test(hostname);
}

/** Rate limit by client address; a refusal carries `Retry-After`. */
function limit(rl: AddressRateLimit, req: FastifyRequest, reply: FastifyReply): void {
  try {
    rl.take(req.ip);
  } catch (err) {
    const details = err instanceof HubError ? err.details : undefined;
    if (typeof details === 'object' && details !== null && 'retryAfterS' in details) {
      reply.header('Retry-After', String(details.retryAfterS));
    }
    throw err;
  }
}

/** `Authorization: Basic` credentials, from any Authorization header (Node keeps only the first). */
function basicCredentials(req: FastifyRequest): { email: string; password: string } | null {
  const raw = req.raw.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() !== 'authorization') continue;
    const m = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(raw[i + 1] ?? '');
    if (!m?.[1]) continue;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    return { email: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  return null;
}

// Schema-checked body fields typed with `unknown` inside hold only JSON values: the body came
// from JSON.parse (body-parsers.ts), so these narrowings cannot lie.
const asJson = (v: unknown): Json => v as Json;
const asPubkeys = (v: Record<string, Record<string, unknown>>): Record<string, JsonObject> =>
  v as Record<string, JsonObject>;

function writeFrom(body: {
  email?: string;
  app_id?: string;
  pubkeys?: Record<string, Record<string, unknown>>;
  cconfig?: unknown;
  password?: string | null;
}): CustomerWrite {
  return {
    ...(body.email !== undefined && { email: body.email }),
    ...(body.app_id !== undefined && { app_id: body.app_id }),
    ...(body.pubkeys !== undefined && { pubkeys: asPubkeys(body.pubkeys) }),
    ...(body.cconfig !== undefined && { cconfig: asJson(body.cconfig) }),
    ...(body.password !== undefined && { password: body.password }),
  };
}

export function registerCustomerRoutes(app: FastifyInstance, deps: CustomerRoutesDeps): void {
  const { customers, limits } = deps;
  const signups = new AddressRateLimit(
    limits.signupsPerMinute,
    limits.signupBurst,
    limits.maxTrackedAddresses,
  );
  const basicAttempts = new AddressRateLimit(
    limits.basicAuthPerMinute,
    limits.basicAuthBurst,
    limits.maxTrackedAddresses,
  );

  /** Who is calling a `customer` route: a customer key, or HTTP Basic email:password. */
  async function caller(req: FastifyRequest, reply: FastifyReply): Promise<CustomerRecord> {
    const key = requestKey(req);
    if (key !== null) return customers.byToken(key);
    const basic = basicCredentials(req);
    if (basic === null) throw new HubError('unauthorized', 'missing customer key');
    limit(basicAttempts, req, reply);
    return customers.byPassword(basic.email, basic.password);
  }

  const managed = (req: FastifyRequest, c: CustomerRecord): ManagedCustomer => {
    const origin =
      req.protocol === 'http' && isLoopback(req.hostname) ? deps.lanOrigin() : requestOrigin(req);
    return {
      ...customerObject(c),
      has_password: c.password_hash !== null,
      link: appSignInLink(origin, c.token, c.app_id || DEFAULT_APP_ID),
    };
  };

  // --- sign-up, no key ------------------------------------------------------------------------

  app.get('/newcustomer', { config: { auth: 'none' } }, async (req, reply) => {
    limit(signups, req, reply);
    // Not form-decoded: `a+b@example.com` keeps its plus (PROTOCOL.md 4 says the same of keys).
    const { email } = parseWith(NewCustomerQuery, { email: queryParam(req.url, 'email') ?? '' });
    const origin = requestOrigin(req);
    const c = customers.signUp(email, '');
    if (!c) return {};
    return { link: appSignInLink(origin, c.token) };
  });

  app.post('/invite', { config: { auth: 'none' } }, async (req, reply) => {
    limit(signups, req, reply);
    const body = parseWith(InviteBody, req.body ?? {});
    const linkFor = (token: string): string | null =>
      inviteLink({
        token,
        requestOrigin: requestOrigin(req),
        url: body.url,
        redir: body.redir,
        appId: body.app_id,
      });
    // Check `url` and `redir` before anything is created.
    if (linkFor('x') === null) {
      throw new HubError(
        'validation_failed',
        'url, redir: must be http(s) URLs (redir may be relative)',
      );
    }
    const c = customers.signUp(body.email, body.app_id ?? '');
    if (!c) return {};
    return { link: linkFor(c.token) };
  });

  // --- the customer itself --------------------------------------------------------------------

  app.get('/customer', { config: { auth: 'customer' } }, async (req, reply) =>
    customerObject(await caller(req, reply)),
  );

  app.post('/customer', { config: { auth: 'customer' } }, async (req, reply) => {
    const me = await caller(req, reply);
    const body = parseWith(CustomerSelfBody, req.body ?? {});
    // id, token, email, app_id and the dates are read-only here: ignored, not refused, so the
    // whole echoed object may be posted back.
    const { pubkeys, cconfig, password } = body;
    const updated = await customers.update(me.id, writeFrom({ pubkeys, cconfig, password }));
    return customerObject(updated);
  });

  // --- management, master key -----------------------------------------------------------------

  app.get('/api/v2/customers', async (req) => customers.list().map((c) => managed(req, c)));

  app.post('/api/v2/customers', async (req) => {
    const body = parseWith(CustomerCreateBody, req.body ?? {});
    return managed(req, await customers.create({ ...writeFrom(body), email: body.email }));
  });

  app.get('/api/v2/customers/:id', async (req) => {
    const { id } = parseWith(CustomerIdParams, req.params);
    return managed(req, customers.get(id));
  });

  // Create-or-update by id (PROTOCOL.md 4 `POST /customers/:id` with `{"email","pubkeys"}`).
  app.post('/api/v2/customers/:id', async (req) => {
    const { id } = parseWith(CustomerIdParams, req.params);
    const write = writeFrom(parseWith(CustomerManageBody, req.body ?? {}));
    if (customers.exists(id)) return managed(req, await customers.update(id, write));
    if (write.email === undefined) {
      throw new HubError('validation_failed', 'email: required to create a customer');
    }
    const { token } = parseWith(CustomerTokenBody, req.body ?? {});
    return managed(req, await customers.create({ ...write, email: write.email }, id, token));
  });

  app.delete('/api/v2/customers/:id', async (req) => {
    const { id } = parseWith(CustomerIdParams, req.params);
    customers.remove(id);
    return true;
  });
}
