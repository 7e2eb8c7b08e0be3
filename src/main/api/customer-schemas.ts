/**
 * Input schemas of the customer API and customer management (PROTOCOL.md 4). The TypeBox schema
 * is the type. Bodies may be "the whole echoed object": read-only fields (`id`, `token`, dates,
 * and for customers themselves `email`, `app_id`) are accepted and ignored, and so are keys this
 * hub does not know, so an app written for mdash.net that posts back what it got keeps working.
 */
import Type from 'typebox';
import { MAX_EMAIL_LENGTH } from '../customers/email';

const Email = Type.String({ minLength: 1, maxLength: MAX_EMAIL_LENGTH + 64 });
/** App ids as `/a/<app_id>/` serves them; '' for none. */
const AppId = Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]*$' });
/** Device public keys (ACL `public_key`) with the metadata the app keeps for each. */
const Pubkeys = Type.Record(
  Type.String({ minLength: 1, maxLength: 1024 }),
  Type.Record(Type.String(), Type.Unknown()),
);
// The password's byte cap is checked after decoding (customers/password-hash.ts).
const Password = Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]);

export const CustomerIdParams = Type.Object({
  // Ids are spliced into ACL queries as CUSTOMER_ID (PROTOCOL.md 5): this charset keeps quotes shut.
  id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
});

export const NewCustomerQuery = Type.Object({ email: Email });

export const InviteBody = Type.Object({
  email: Email,
  app_id: Type.Optional(AppId),
  /** Sender and message of the invitation mail: with no mail server, accepted and unused. */
  from: Type.Optional(Type.String({ maxLength: 1024 })),
  text: Type.Optional(Type.String({ maxLength: 16 * 1024 })),
  redir: Type.Optional(Type.String({ maxLength: 2048 })),
  url: Type.Optional(Type.String({ maxLength: 2048 })),
});

/** `POST /customer`: what a customer may change about itself. */
export const CustomerSelfBody = Type.Object(
  {
    pubkeys: Type.Optional(Pubkeys),
    cconfig: Type.Optional(Type.Unknown()),
    password: Type.Optional(Password),
  },
  { additionalProperties: true },
);

/**
 * A customer key given instead of a fresh one (Fleetbench extension, PROTOCOL.md 9):
 * `fleetbench import` keeps the keys customers' links carry. URL-safe, as the whole query string
 * of a sign-in link is the key.
 */
export const CustomerTokenBody = Type.Object(
  { token: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.~-]{8,128}$' })) },
  { additionalProperties: true },
);

/**
 * `POST /api/v2/customers/:id` (master key): create or update. A `token` is checked and used
 * (CustomerTokenBody) only when the call creates the customer; on an update it is read-only and
 * ignored, unchecked, as in an echoed object.
 */
export const CustomerManageBody = Type.Object(
  {
    email: Type.Optional(Email),
    app_id: Type.Optional(AppId),
    pubkeys: Type.Optional(Pubkeys),
    cconfig: Type.Optional(Type.Unknown()),
    password: Type.Optional(Password),
  },
  { additionalProperties: true },
);

/** `POST /api/v2/customers` (master key): a new customer and its sign-in link (the dashboard's invite). */
export const CustomerCreateBody = Type.Object(
  {
    email: Email,
    app_id: Type.Optional(AppId),
    pubkeys: Type.Optional(Pubkeys),
    cconfig: Type.Optional(Type.Unknown()),
    password: Type.Optional(Password),
  },
  { additionalProperties: true },
);
