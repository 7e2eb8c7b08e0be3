/**
 * Input schemas of the management API (PROTOCOL.md 4). The TypeBox schema is the type.
 */
import Type from 'typebox';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const JsonObjectSchema = Type.Record(Type.String(), Type.Unknown());

export const DeviceIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

// Bodies that may be absent are validated as `body ?? {}` against a plain object schema: a
// union with `undefined` would report "input: must be undefined" instead of the bad field.
/**
 * A device password or customer key given by the caller instead of a fresh random one (Fleetbench
 * extension, PROTOCOL.md 9; master key only): `fleetbench import` keeps the passwords devices were
 * flashed with. Printable, no spaces or quotes, so it fits a Bearer header and a query string.
 */
export const GivenToken = Type.String({ pattern: '^[A-Za-z0-9_.~+/=-]{8,128}$' });

export const CreateDeviceBody = Type.Object({
  name: Type.Optional(Name),
  id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })),
  token: Type.Optional(GivenToken),
});

const AclRegex = Type.String({ maxLength: 1024 });
const RegexField = Type.Union([AclRegex, Type.Array(AclRegex, { maxItems: 64 })]);
const RpcGlob = Type.String({ maxLength: 256 });
const RpcField = Type.Union([
  Type.String({ maxLength: 4096 }),
  Type.Array(RpcGlob, { maxItems: 64 }),
]);

export const AclSchema = Type.Object(
  {
    public_key: Type.Optional(Type.String({ maxLength: 1024 })),
    // PROTOCOL.md 8: a string (what real clients send) or an array; stored and echoed as sent.
    shadow_read: Type.Optional(RegexField),
    shadow_write: Type.Optional(RegexField),
    rpc: Type.Optional(RpcField),
    data_read: Type.Optional(Type.Record(Type.String(), Type.String())),
    data_write: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: true },
);

export const UpdateDeviceBody = Type.Object({
  name: Type.Optional(Name),
  shadow: Type.Optional(JsonObjectSchema),
  acl: Type.Optional(AclSchema),
});

export const RenameDeviceBody = Type.Object({ name: Name });

export const RpcParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  method: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.$-]+$' }),
});

export const RpcQuery = Type.Object({
  timeout: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
});

export const KeyIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

// Integers from JSON may be any double: each gets a range a JS number (and SQLite's 64-bit
// integers) hold exactly, so an out-of-range value is a 400 naming the field, not a 500 below.
export const LogsBody = Type.Object({
  start: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  device: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.Optional(Type.String({ maxLength: 200 })),
});
