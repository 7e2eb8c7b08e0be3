/**
 * Single-device OTA over REST (PROTOCOL.md 6 and 9, master key):
 * - POST `/devices/:id/ota`: multipart `file` (the mDash API; the file enters the firmware library,
 *   content-addressed) or JSON `{"firmware":"<id>"}`; `?force=1` sends despite a platform mismatch
 *   or a file that is no firmware image; `?commit=1` commits a Mongoose OS image once verified;
 *   `?wait=0` answers 202 with the job at once, otherwise 200 when the job has ended.
 * - GET `/ota` (newest first, `?device=`, `?rollout=`), GET `/ota/:job`, DELETE `/ota/:job`.
 * - POST `/devices/:id/ota/commit` and `/revert` (ours): OTA.Commit / OTA.Revert on an
 *   uncommitted Mongoose OS device, answered with the new boot state.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Readable } from 'node:stream';
import { rename, rm } from 'node:fs/promises';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import type { OtaJob } from '../../shared/ota';
import type { FirmwareLimits } from '../config';
import type { FirmwareLibrary, Staged } from '../firmware/firmware-library';
import { inspectFirmwareFile } from '../firmware/firmware-inspect';
import { zipLimitsOf } from '../firmware/safe-unzip';
import type { OtaBootState, OtaLooseFile, OtaManager } from '../ota/ota-manager';
import { parseWith } from '../validate';

export interface OtaRoutesDeps {
  ota: OtaManager;
  library: FirmwareLibrary;
  limits: FirmwareLimits;
}

const Flag = Type.Union([
  Type.Literal('0'),
  Type.Literal('1'),
  Type.Literal('true'),
  Type.Literal('false'),
]);
const on = (v: string | undefined): boolean => v === '1' || v === 'true';

const DeviceParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
});
const JobParams = Type.Object({
  job: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});
const OtaQuery = Type.Object(
  {
    force: Type.Optional(Flag),
    wait: Type.Optional(Flag),
    commit: Type.Optional(Flag),
  },
  { additionalProperties: false },
);
const OtaJsonBody = Type.Object(
  { firmware: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    device: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    rollout: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  },
  { additionalProperties: false },
);

type Part =
  | { type: 'file'; fieldname: string; filename: string; file: Readable }
  | { type: 'field'; fieldname: string; value: unknown };
type MultipartRequest = FastifyRequest & {
  isMultipart(): boolean;
  parts(): AsyncIterableIterator<Part>;
};

/** The request as a multipart one, or null when it carries another body (JSON). */
const multipartOf = (req: FastifyRequest): MultipartRequest | null => {
  const r = req as Partial<MultipartRequest>;
  const ok =
    typeof r.isMultipart === 'function' && r.isMultipart() && typeof r.parts === 'function';
  return ok ? (req as MultipartRequest) : null;
};

/** Streams the one `file` part to a staged file (never held in memory whole). */
async function stageUpload(req: MultipartRequest, library: FirmwareLibrary): Promise<Staged> {
  let staged: Staged | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      if (part.fieldname !== 'file' || staged !== undefined) {
        part.file.resume();
        throw new HubError(
          'validation_failed',
          part.fieldname !== 'file'
            ? `unexpected file field '${part.fieldname}' (expected 'file')`
            : "only one 'file' part per update",
        );
      }
      staged = await library.stage(part.file, 'image', part.filename);
    }
  } catch (err) {
    await library.discard(staged);
    throw err;
  }
  if (!staged) {
    throw new HubError('validation_failed', "file: send the firmware as a multipart 'file' part");
  }
  return staged;
}

/**
 * The uploaded file enters the library (content-addressed) unless it is no firmware image: then
 * it is refused (400 image_invalid), or with force sent as it is from a temporary file that the
 * job removes when it ends.
 */
async function admit(
  staged: Staged,
  force: boolean,
  deps: OtaRoutesDeps,
): Promise<{ firmware: string } | { loose: OtaLooseFile }> {
  try {
    await inspectFirmwareFile(staged.path, staged.name, zipLimitsOf(deps.limits));
  } catch (err) {
    if (!(force && err instanceof HubError && err.kind === 'image_invalid')) {
      await deps.library.discard(staged);
      throw err instanceof HubError && err.kind === 'image_invalid'
        ? new HubError('image_invalid', `${err.message}; add force=1 to send it anyway`)
        : err;
    }
    const path = `${staged.path}.ota`;
    await rename(staged.path, path);
    return { loose: { path, temporary: true } };
  }
  const { firmware } = await deps.library.add(staged);
  return { firmware: firmware.id };
}

export async function registerOtaRoutes(app: FastifyInstance, deps: OtaRoutesDeps): Promise<void> {
  const { ota, library } = deps;
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: deps.limits.maxImageBytes + 1, files: 1, fields: 4, parts: 5 },
    });

    scope.post(
      '/api/v2/devices/:id/ota',
      // The slot covers receiving the body only: the reply may wait for the whole job.
      { config: { upload: 'body' } },
      async (req, reply): Promise<OtaJob> => {
        const { id } = parseWith(DeviceParams, req.params);
        const q = parseWith(OtaQuery, req.query ?? {});
        const force = on(q.force);
        let source: { firmware: string } | { loose: OtaLooseFile };
        const mp = multipartOf(req);
        if (mp) {
          source = await admit(await stageUpload(mp, library), force, deps);
        } else {
          source = parseWith(OtaJsonBody, req.body ?? {});
        }
        let job: OtaJob;
        try {
          job = ota.start({
            device: id,
            firmware: 'firmware' in source ? source.firmware : '',
            force,
            commit: on(q.commit),
            ...('loose' in source && { loose: source.loose }),
          });
        } catch (err) {
          if ('loose' in source) await rm(source.loose.path, { force: true });
          throw err;
        }
        if (q.wait !== undefined && !on(q.wait)) {
          void reply.code(202);
          return job;
        }
        return ota.wait(job.id);
      },
    );

    scope.get('/api/v2/ota', async (req): Promise<OtaJob[]> => {
      const q = parseWith(ListQuery, req.query ?? {});
      return ota.list({
        ...(q.device !== undefined && { device: q.device }),
        ...(q.rollout !== undefined && { rollout: q.rollout }),
        ...(q.limit !== undefined && { limit: Number(q.limit) }),
      });
    });

    scope.get('/api/v2/ota/:job', async (req): Promise<OtaJob> => {
      const { job } = parseWith(JobParams, req.params);
      return ota.get(job);
    });

    scope.delete('/api/v2/ota/:job', async (req): Promise<OtaJob> => {
      const { job } = parseWith(JobParams, req.params);
      ota.cancel(job);
      // A sending job stops after the write in flight (and, on Arduino, OTA.End).
      return ota.wait(job);
    });

    scope.post('/api/v2/devices/:id/ota/commit', async (req): Promise<OtaBootState> => {
      const { id } = parseWith(DeviceParams, req.params);
      return ota.commit(id);
    });

    scope.post('/api/v2/devices/:id/ota/revert', async (req): Promise<OtaBootState> => {
      const { id } = parseWith(DeviceParams, req.params);
      return ota.revert(id);
    });
  });
}
