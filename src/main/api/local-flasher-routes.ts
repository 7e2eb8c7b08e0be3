/**
 * `/api/v2/local/*`: the flasher as an API resource (DESIGN.md "One API surface"; master key
 * like every /api route, enforced by auth.ts). Serial ports live on the hub machine.
 *
 *   GET    ports                       ports with their current owner
 *   POST   flash                       multipart (file parts + options JSON) or JSON with base64
 *                                      images -> {job}
 *   GET    jobs, jobs/:id, jobs/:id/log
 *   DELETE jobs/:id                    cancel
 *   POST   bench, GET bench, POST bench/retry, DELETE bench, GET bench.csv
 *   POST   monitor/symbols             ELF for panic decoding on a port (multipart `elf` + `port`)
 *
 * Bad input of any kind (no port, unknown port, bad address, huge file, bad options JSON, hostile
 * zip) is a coded 4xx and starts nothing.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import { parseWith } from '../validate';
import { toCsv } from '../flasher/bench/bench-csv';
import type { BenchDesk } from '../flasher/bench/bench-desk';
import {
  buildFlashRequest,
  FlashOptionsSchema,
  MAX_FILES_PER_JOB,
  type FlashFile,
} from '../flasher/jobs/flash-request';
import type { FlashJobManager } from '../flasher/jobs/job-manager';
import { parseElfSymbols } from '../firmware/elf-symbols';
import type { PortInfo } from '../flasher/serial/port-list';
import type { PortOwner } from '../flasher/serial/port-registry';
import type { MonitorEndpoint } from './local-monitor-socket';
import {
  BenchJsonBody,
  BenchOptionsSchema,
  FlashJsonBody,
  JobIdParams,
  SymbolsQuery,
} from './local-schemas';
import { imagesFromJson, isMultipart, readMultipart } from './local-uploads';

export interface LocalFlasherDeps {
  manager: FlashJobManager;
  bench: BenchDesk;
  monitor: MonitorEndpoint;
  listPorts: () => Promise<PortInfo[]>;
  maxUploadBytes: number;
}

export type PortWithOwner = PortInfo & { owner: PortOwner | null };

/** Routes that take uploads count against the per-key limit (upload-slots.ts). */
const UPLOAD = { upload: true } as const;

/** Separates `images` from the rest of a JSON body. */
function splitImages(body: unknown): { images: unknown; rest: Record<string, unknown> } {
  const { images, ...rest } = (body ?? {}) as Record<string, unknown>;
  return { images, rest };
}

/** Files and options from either request shape; options still unvalidated. */
async function readFlashUpload(
  req: FastifyRequest,
  maxBytes: number,
  jsonSchema: typeof FlashJsonBody | typeof BenchJsonBody,
): Promise<{ files: FlashFile[]; options: unknown }> {
  if (isMultipart(req)) {
    const upload = await readMultipart(req, maxBytes);
    return { files: upload.files, options: upload.options };
  }
  if (req.body === undefined || req.body === null || typeof req.body !== 'object') {
    throw new HubError(
      'bad_request',
      'send multipart/form-data (file parts + options) or a JSON body with images',
    );
  }
  parseWith(jsonSchema, req.body);
  const { images, rest } = splitImages(req.body);
  return { files: imagesFromJson(images, maxBytes), options: rest };
}

export async function registerLocalFlasherRoutes(
  app: FastifyInstance,
  deps: LocalFlasherDeps,
): Promise<void> {
  const { manager, bench, monitor, maxUploadBytes } = deps;
  // Base64 is 4/3 of the bytes; the JSON around it is small.
  const jsonLimit = Math.ceil((maxUploadBytes * 4) / 3) + 64 * 1024;

  // Awaited so the routes exist (and are recorded for the auth test) before the hub lists them.
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: {
        fileSize: maxUploadBytes,
        files: MAX_FILES_PER_JOB + 1,
        fields: 64,
        fieldSize: 64 * 1024,
        parts: MAX_FILES_PER_JOB + 66,
      },
    });

    scope.get('/api/v2/local/ports', async (): Promise<PortWithOwner[]> => {
      const ports = await deps.listPorts();
      return ports.map((p) => ({ ...p, owner: manager.registry.owner(p.path) }));
    });

    scope.post('/api/v2/local/flash', { bodyLimit: jsonLimit, config: UPLOAD }, async (req) => {
      const { files, options } = await readFlashUpload(req, maxUploadBytes, FlashJsonBody);
      const opts = parseWith(FlashOptionsSchema, options);
      const job = await manager.submit({
        request: buildFlashRequest(opts, files),
        ...(opts.provision ? { provision: opts.provision } : {}),
      });
      return { job: job.id };
    });

    scope.get('/api/v2/local/jobs', async () => manager.list());

    scope.get('/api/v2/local/jobs/:id', async (req) => {
      const { id } = parseWith(JobIdParams, req.params);
      return manager.get(id);
    });

    scope.get('/api/v2/local/jobs/:id/log', async (req) => {
      const { id } = parseWith(JobIdParams, req.params);
      return manager.logOf(id);
    });

    scope.delete('/api/v2/local/jobs/:id', async (req) => {
      const { id } = parseWith(JobIdParams, req.params);
      return manager.cancel(id);
    });

    scope.post('/api/v2/local/bench', { bodyLimit: jsonLimit, config: UPLOAD }, async (req) => {
      const { files, options } = await readFlashUpload(req, maxUploadBytes, BenchJsonBody);
      const { ports, ...rest } = parseWith(BenchOptionsSchema, options);
      return bench.start({ ports, files, options: rest });
    });

    scope.get('/api/v2/local/bench', async () => bench.current().snapshot());

    scope.post('/api/v2/local/bench/retry', async () => bench.retry());

    scope.delete('/api/v2/local/bench', async () => bench.cancel());

    scope.get('/api/v2/local/bench.csv', async (_req, reply) => {
      const run = bench.current();
      void reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="bench-${run.id}.csv"`);
      return toCsv(run.rows());
    });

    scope.post('/api/v2/local/monitor/symbols', { config: UPLOAD }, async (req) => {
      const upload = await readMultipart(req, maxUploadBytes, { allowElf: true });
      const { port } = parseWith(SymbolsQuery, { ...(req.query as object), ...upload.fields });
      if (!port)
        throw new HubError('validation_failed', 'port: give the port the firmware runs on');
      if (!upload.elf)
        throw new HubError('validation_failed', "elf: upload the firmware's ELF file");
      if (upload.files.length > 0)
        throw new HubError('validation_failed', 'only an elf file is expected');
      const table = parseElfSymbols(upload.elf);
      const { active } = monitor.setSymbols(port, table);
      return { port, symbols: table.size, machine: table.machine, active };
    });
  });
}
