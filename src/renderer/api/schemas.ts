/**
 * Responses from the hub are input too (DESIGN.md example 4): checked against these schemas before
 * any store sees them. They are lenient where PROTOCOL.md leaves room (extra fields, an absent
 * empty section) and strict where the dashboard depends on a field. `typebox/value` checks without
 * `eval`, so a strict Content-Security-Policy does not break it.
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import type { DeviceObject, JsonObject, Notification, ShadowDoc } from '../../shared/types';

const Obj = Type.Record(Type.String(), Type.Unknown());

// `state` may be absent: a list read with `fields` (README "Device list") carries only the
// shadow paths asked for, and a device that has none of them has no `state` in its answer.
export const ShadowSchema = Type.Object({
  state: Type.Optional(
    Type.Object({
      desired: Type.Optional(Obj),
      reported: Type.Optional(Obj),
      delta: Type.Optional(Obj),
    }),
  ),
  tags: Type.Optional(Obj),
  version: Type.Number(),
  timestamp: Type.Optional(Type.Number()),
});

export const DeviceSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.Optional(Type.String()),
  token: Type.Optional(Type.String()),
  online: Type.Optional(Type.Boolean()),
  shadow: Type.Optional(ShadowSchema),
  acl: Type.Optional(Obj),
  created: Type.Optional(Type.Number()),
  last_seen: Type.Optional(Type.Number()),
});

export const ErrorBodySchema = Type.Object({
  error: Type.Object({ code: Type.Number(), message: Type.String() }),
});

export const NotificationSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  id: Type.Optional(Type.String()),
  data: Type.Optional(Type.Unknown()),
});

type RawShadow = Type.Static<typeof ShadowSchema>;
type RawDevice = Type.Static<typeof DeviceSchema>;

export function emptyShadow(): ShadowDoc {
  return { state: { desired: {}, reported: {}, delta: {} }, tags: {}, version: 0, timestamp: 0 };
}

function normalizeShadow(raw: RawShadow | undefined): ShadowDoc {
  if (!raw) return emptyShadow();
  return {
    state: {
      desired: (raw.state?.desired ?? {}) as JsonObject,
      reported: (raw.state?.reported ?? {}) as JsonObject,
      delta: (raw.state?.delta ?? {}) as JsonObject,
    },
    tags: (raw.tags ?? {}) as JsonObject,
    version: raw.version,
    timestamp: raw.timestamp ?? 0,
  };
}

function normalizeDevice(raw: RawDevice): DeviceObject {
  return {
    id: raw.id,
    name: raw.name ?? '',
    token: raw.token ?? '',
    online: raw.online ?? false,
    shadow: normalizeShadow(raw.shadow),
    acl: (raw.acl ?? {}) as DeviceObject['acl'],
    created: raw.created ?? 0,
    last_seen: raw.last_seen ?? 0,
  };
}

export function readDevice(value: unknown): DeviceObject | null {
  return Value.Check(DeviceSchema, value) ? normalizeDevice(value) : null;
}

export function readShadow(value: unknown): ShadowDoc | null {
  return Value.Check(ShadowSchema, value) ? normalizeShadow(value) : null;
}

export function readErrorBody(value: unknown): { code: number; message: string } | null {
  return Value.Check(ErrorBodySchema, value) ? value.error : null;
}

/** A notify frame (PROTOCOL.md 7); device objects inside lifecycle events are normalized too. */
export function readNotification(value: unknown): Notification | null {
  if (!Value.Check(NotificationSchema, value)) return null;
  const lifecycle = ['created', 'updated', 'online', 'offline', 'deleted'].includes(value.name);
  const device = lifecycle ? readDevice(value.data) : null;
  return {
    name: value.name,
    id: value.id ?? device?.id ?? '',
    data: (device ?? value.data ?? null) as Notification['data'],
  };
}
