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
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
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
import { isMultipartUpload, receiveUpload } from './streamed-upload';

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
        if (isMultipartUpload(req)) {
          const staged = await receiveUpload(
            req,
            {
              stage: (file, name) => library.stage(file, 'image', name),
              discard: (s) => library.discard(s),
            },
            { what: 'the firmware', strict: true },
          );
          source = await admit(staged, force, deps);
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
