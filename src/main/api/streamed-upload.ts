/**
 * One uploaded file streamed to disk, never held in memory: what the app (`POST /api/v2/m`),
 * OTA (`POST /devices/:id/ota`) and restore (`POST /api/v2/restore`) routes share. The file comes
 * as the multipart `file` part, or (routes that register a catch-all stream parser) as the raw
 * body. The route's `stage` writes it and enforces its own byte limit (a coded `too_large`); the
 * multipart plugin's `fileSize` limit, set by the route, stops a part just past it. Anything
 * staged is discarded again when a later part fails.
 */
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { HubError } from '../../shared/errors';
import { multipartFailure } from './local-uploads';

/** What @fastify/multipart's `parts()` yields when a part is read as a stream. */
type StreamPart =
  | { type: 'file'; fieldname: string; filename: string; file: Readable }
  | { type: 'field'; fieldname: string; value: unknown };

type StreamingRequest = FastifyRequest & {
  isMultipart(): boolean;
  parts(): AsyncIterableIterator<StreamPart>;
};

/** Where the route puts the bytes. */
export interface UploadSink<T> {
  /** Streams the file to a staged file; throws a coded error when it passes the route's limit. */
  stage(file: Readable, filename: string): Promise<T>;
  /** Removes what `stage` made, when a later part fails. */
  discard(staged: T): Promise<void>;
}

export interface UploadOptions {
  /** What the file is, for messages: `the app zip`. */
  what: string;
  /** A body that is not multipart is the file itself (the route parses `*` as a stream). */
  raw?: boolean;
  /**
   * Refuse a file part other than `file` and a second `file` (400). Otherwise they are drained
   * and ignored, so clients that send extra form parts still work.
   */
  strict?: boolean;
  /** Refuse a declared Content-Length over this (plus multipart framing) before reading. */
  maxBytes?: number;
}

/** Room for multipart boundaries and part headers around a file of `maxBytes`. */
const FRAMING_BYTES = 64 * 1024;

function multipartOf(req: FastifyRequest): StreamingRequest | null {
  const r = req as Partial<StreamingRequest>;
  const ok =
    typeof r.isMultipart === 'function' && r.isMultipart() && typeof r.parts === 'function';
  return ok ? (req as StreamingRequest) : null;
}

/** Whether the request is a multipart one (a route with a JSON alternative checks first). */
export function isMultipartUpload(req: FastifyRequest): boolean {
  return multipartOf(req) !== null;
}

async function stageParts<T>(
  req: StreamingRequest,
  sink: UploadSink<T>,
  o: UploadOptions,
): Promise<T> {
  let staged: { value: T } | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type !== 'file') continue;
      if (part.fieldname !== 'file' || staged !== undefined) {
        part.file.resume();
        if (!o.strict) continue;
        throw new HubError(
          'validation_failed',
          part.fieldname !== 'file'
            ? `unexpected file field '${part.fieldname}' (expected 'file')`
            : "only one 'file' part per request",
        );
      }
      staged = { value: await sink.stage(part.file, part.filename) };
    }
  } catch (err) {
    if (staged !== undefined) await sink.discard(staged.value);
    // A body cut off before its closing boundary or with broken part headers is the client's
    // malformed upload (400), never a 500; our own coded errors pass through.
    throw multipartFailure(err);
  }
  if (staged === undefined) {
    throw new HubError('validation_failed', `file: upload ${o.what} as a multipart 'file' part`);
  }
  return staged.value;
}

/** Receives the upload; throws `validation_failed` when there is no file, or the sink's error. */
export async function receiveUpload<T>(
  req: FastifyRequest,
  sink: UploadSink<T>,
  o: UploadOptions,
): Promise<T> {
  if (o.maxBytes !== undefined) {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > o.maxBytes + FRAMING_BYTES) {
      throw new HubError('too_large', `${o.what} is larger than the ${o.maxBytes}-byte limit`);
    }
  }
  const form = multipartOf(req);
  if (form) return stageParts(form, sink, o);
  const body = req.body as Partial<Readable> | undefined;
  if (!o.raw || !body || typeof body.pipe !== 'function') {
    throw new HubError(
      'validation_failed',
      o.raw
        ? `body: send ${o.what} (a multipart 'file' part or the raw body)`
        : `file: upload ${o.what} as a multipart 'file' part`,
    );
  }
  return sink.stage(body as Readable, '');
}
