/**
 * `/api/v2/firmware` (PROTOCOL.md 9, master key): the firmware library.
 *
 * POST takes multipart/form-data: `file` (fw.zip or ESP app .bin), optional `elf`, optional
 * `notes`. Each file part is streamed to disk while it arrives (FirmwareLibrary.stage); nothing
 * is buffered whole. 201 with the new firmware, 200 with the existing one for bytes already in
 * the library. An `elf` alone is linked to the firmware built from it (200). Also
 * POST `/firmware/:id/elf` attaches an ELF to one firmware explicitly (ours).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Readable } from 'node:stream';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import type { FirmwareObject } from '../../shared/firmware';
import type { FirmwareLimits } from '../config';
import type { FirmwareLibrary, Staged } from '../firmware/firmware-library';
import { parseWith } from '../validate';
import { multipartFailure } from './local-uploads';

export interface FirmwareRoutesDeps {
  library: FirmwareLibrary;
  limits: FirmwareLimits;
}

const FirmwareIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});

const MAX_NOTES_BYTES = 4096;

/** What @fastify/multipart's `parts()` yields (the subset used here). */
type Part =
  | { type: 'file'; fieldname: string; filename: string; file: Readable }
  | { type: 'field'; fieldname: string; value: unknown };
type MultipartRequest = FastifyRequest & {
  isMultipart(): boolean;
  parts(): AsyncIterableIterator<Part>;
};

function multipartOf(req: FastifyRequest): MultipartRequest {
  const r = req as Partial<MultipartRequest>;
  if (typeof r.isMultipart !== 'function' || !r.isMultipart() || !r.parts) {
    throw new HubError('bad_request', "expected multipart/form-data with a 'file' part");
  }
  return req as MultipartRequest;
}

interface FirmwareUpload {
  image?: Staged;
  elf?: Staged;
  notes?: string;
}

/** Streams the parts to staged files. On any error the staged files are removed. */
async function readUpload(req: FastifyRequest, library: FirmwareLibrary): Promise<FirmwareUpload> {
  const upload: FirmwareUpload = {};
  try {
    for await (const part of multipartOf(req).parts()) {
      if (part.type === 'file') {
        const kind =
          part.fieldname === 'file' ? 'image' : part.fieldname === 'elf' ? 'elf' : undefined;
        if (kind === undefined || upload[kind] !== undefined) {
          part.file.resume();
          throw new HubError(
            'validation_failed',
            kind === undefined
              ? `unexpected file field '${part.fieldname}' (expected 'file' and optionally 'elf')`
              : `only one '${part.fieldname}' part per upload`,
          );
        }
        upload[kind] = await library.stage(part.file, kind, part.filename);
      } else if (part.fieldname === 'notes') {
        upload.notes = typeof part.value === 'string' ? part.value : String(part.value);
      } else {
        throw new HubError('validation_failed', `unexpected field '${part.fieldname}'`);
      }
    }
    return upload;
  } catch (err) {
    await library.discard(upload.image);
    await library.discard(upload.elf);
    // A body cut off before its closing boundary is a coded 400, never a 500.
    throw multipartFailure(err);
  }
}

/** The upload limits of @fastify/multipart: a backstop; the library caps each part itself. */
function multipartLimits(limits: FirmwareLimits): Record<string, number> {
  return {
    fileSize: Math.max(limits.maxImageBytes, limits.maxElfBytes) + 1,
    files: 2,
    fields: 4,
    fieldSize: MAX_NOTES_BYTES,
    parts: 6,
  };
}

export async function registerFirmwareRoutes(
  app: FastifyInstance,
  deps: FirmwareRoutesDeps,
): Promise<void> {
  const { library } = deps;
  // Awaited so the routes exist (and are recorded for the auth test) before the hub lists them.
  await app.register(async (scope) => {
    await scope.register(multipart, { limits: multipartLimits(deps.limits) });

    scope.post('/api/v2/firmware', async (req, reply): Promise<FirmwareObject> => {
      const upload = await readUpload(req, library);
      if (upload.image === undefined) {
        if (upload.elf === undefined) {
          throw new HubError(
            'validation_failed',
            "file: upload the firmware (fw.zip or .bin) as a multipart 'file' part",
          );
        }
        const linked = await library.attachElf(upload.elf);
        void reply.code(200);
        const first = linked[0];
        if (!first) throw new HubError('internal');
        return first;
      }
      const result = await library.add(upload.image, {
        ...(upload.notes !== undefined && { notes: upload.notes }),
        ...(upload.elf !== undefined && { elf: upload.elf }),
      });
      void reply.code(result.created ? 201 : 200);
      return result.firmware;
    });

    scope.get('/api/v2/firmware', async (): Promise<FirmwareObject[]> => library.list());

    scope.get('/api/v2/firmware/:id', async (req): Promise<FirmwareObject> => {
      const { id } = parseWith(FirmwareIdParams, req.params);
      return library.get(id);
    });

    scope.get('/api/v2/firmware/:id/file', async (req, reply) => {
      const { id } = parseWith(FirmwareIdParams, req.params);
      const file = await library.openStream(id);
      const ascii = file.fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
      void reply
        .type('application/octet-stream')
        .header('content-length', file.size)
        .header(
          'content-disposition',
          `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
        );
      return reply.send(file.stream);
    });

    scope.post('/api/v2/firmware/:id/elf', async (req): Promise<FirmwareObject> => {
      const { id } = parseWith(FirmwareIdParams, req.params);
      library.get(id);
      const upload = await readUpload(req, library);
      if (upload.image !== undefined) {
        await library.discard(upload.image);
        await library.discard(upload.elf);
        throw new HubError('validation_failed', "only an 'elf' part is expected here");
      }
      if (upload.elf === undefined) {
        throw new HubError('validation_failed', "elf: upload the ELF as a multipart 'elf' part");
      }
      const [linked] = await library.attachElf(upload.elf, { id });
      if (!linked) throw new HubError('internal');
      return linked;
    });

    scope.delete('/api/v2/firmware/:id', async (req) => {
      const { id } = parseWith(FirmwareIdParams, req.params);
      return library.remove(id);
    });
  });
}
