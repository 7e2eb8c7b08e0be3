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

// ---- Firmware library, OTA jobs and rollouts (PROTOCOL.md 9, src/shared/firmware.ts, ota.ts) ----
// Strict on the fields the pages show, lenient on the rest (fields may be added, never renamed).

const L = <T extends string>(v: T) => Type.Literal(v);
const FirmwareFormatSchema = Type.Union([L('fw.zip'), L('esp-app'), L('bin')]);
const JOB_STATES = [
  L('queued'),
  L('sending'),
  L('rebooting'),
  L('verifying'),
  L('done'),
  L('failed'),
  L('rolled_back'),
  L('cancelled'),
] as const;
const JobStateSchema = Type.Union([...JOB_STATES]);

export const FirmwareSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.String(),
  version: Type.String(),
  platform: Type.String(),
  build_id: Type.String(),
  format: FirmwareFormatSchema,
  size: Type.Number(),
  sha256: Type.String(),
  created: Type.Number(),
  elf: Type.Boolean(),
  notes: Type.Optional(Type.String()),
  file_name: Type.Optional(Type.String()),
  chip_id: Type.Optional(Type.Number()),
  elf_sha256: Type.Optional(Type.String()),
  fw_id: Type.Optional(Type.String()),
  app: Type.Optional(
    Type.Object({
      project: Type.String(),
      version: Type.String(),
      idf: Type.String(),
      date: Type.String(),
      time: Type.String(),
      elf_sha256: Type.String(),
    }),
  ),
});

const JobErrorSchema = Type.Object({ code: Type.String(), message: Type.String() });

export const OtaJobSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  device: Type.String(),
  firmware: Type.String(),
  state: JobStateSchema,
  bytes: Type.Number(),
  total: Type.Number(),
  from_fw: Type.Optional(Type.String()),
  to_fw: Type.Optional(Type.String()),
  error: Type.Optional(JobErrorSchema),
  created: Type.Number(),
  ended: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  family: Type.Optional(Type.String()),
  uncommitted: Type.Optional(Type.Boolean()),
  rollout: Type.Optional(Type.String()),
});

export const OtaProgressSchema = Type.Object({
  job: Type.String(),
  bytes: Type.Number(),
  total: Type.Number(),
  percent: Type.Optional(Type.Number()),
});

export const BootStateSchema = Type.Object({
  active_slot: Type.Optional(Type.Number()),
  is_committed: Type.Boolean(),
  revert_slot: Type.Optional(Type.Number()),
  commit_timeout: Type.Optional(Type.Number()),
});

const RolloutCountsSchema = Type.Object({
  pending: Type.Number(),
  updating: Type.Number(),
  done: Type.Number(),
  failed: Type.Number(),
  skipped: Type.Number(),
});

export const RolloutDeviceSchema = Type.Object({
  id: Type.String(),
  state: Type.Union([...JOB_STATES, L('pending'), L('skipped')]),
  wave: Type.Optional(Type.Number()),
  job: Type.Optional(Type.String()),
  error: Type.Optional(JobErrorSchema),
});

export const RolloutSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  firmware: Type.String(),
  state: Type.Union([L('running'), L('paused'), L('completed'), L('aborted')]),
  waves: Type.Array(
    Type.Object({
      size: Type.Number(),
      state: Type.Union([L('pending'), L('running'), L('done')]),
      // Some hubs add per-wave counts; the page uses them when present.
      done: Type.Optional(Type.Number()),
      failed: Type.Optional(Type.Number()),
    }),
  ),
  counts: RolloutCountsSchema,
  created: Type.Number(),
  ended: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  devices: Type.Optional(Type.Array(RolloutDeviceSchema)),
  /** Why a rollout paused itself, when the hub says. */
  reason: Type.Optional(Type.String()),
  rollback_of: Type.Optional(Type.String()),
});

/** `POST /rollouts/preview`: how many devices each wave takes. */
export const RolloutPreviewSchema = Type.Object({
  total: Type.Number(),
  waves: Type.Array(Type.Number()),
  skipped: Type.Optional(
    Type.Object({ current: Type.Number(), offline: Type.Optional(Type.Number()) }),
  ),
  /** Offline devices kept pending (`offline: "wait"`). */
  offline_waiting: Type.Optional(Type.Number()),
});

/** `POST /rollouts/:id/abort` with `{"rollback":true}` adds the rollback rollout or why there is none. */
export const AbortReplySchema = Type.Object({
  rollback: Type.Optional(RolloutSchema),
  rollback_error: Type.Optional(JobErrorSchema),
});

export type FirmwareView = Type.Static<typeof FirmwareSchema>;
export type OtaJobView = Type.Static<typeof OtaJobSchema>;
export type OtaProgressView = Type.Static<typeof OtaProgressSchema>;
export type BootStateView = Type.Static<typeof BootStateSchema>;
export type RolloutView = Type.Static<typeof RolloutSchema>;
export type RolloutDeviceView = Type.Static<typeof RolloutDeviceSchema>;
export type RolloutPreviewView = Type.Static<typeof RolloutPreviewSchema>;

const check =
  <S extends Type.TSchema>(schema: S) =>
  (value: unknown): Type.Static<S> | null =>
    Value.Check(schema, value) ? (value as Type.Static<S>) : null;

export const readFirmware = check(FirmwareSchema);
export const readOtaJob = check(OtaJobSchema);
export const readOtaProgress = check(OtaProgressSchema);
export const readBootState = check(BootStateSchema);
export const readRollout = check(RolloutSchema);
export const readRolloutDevice = check(RolloutDeviceSchema);
export const readRolloutPreview = check(RolloutPreviewSchema);
export const readAbortReply = check(AbortReplySchema);
