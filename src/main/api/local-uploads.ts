/**
 * Firmware uploads for the local flasher API (`/api/v2/local/flash`, `/bench`, `/monitor/symbols`)
 * in the two shapes clients send (task section 4):
 *
 * - multipart/form-data: one or more `file` parts (the flash address either from a matching
 *   `address` part, in order, or from a `name@0x1000` file name), an `options` part holding JSON,
 *   and an `elf` part for the panic decoder;
 * - a JSON body: `{..., images: [{name?, data: base64, address?}]}`.
 *
 * Limits come from config (`limits.maxUploadBytes`, per file and in total). Everything is read
 * into memory: firmware is a few MB and the flasher needs the bytes anyway. File names are labels
 * only (nothing is written to disk under them), cut to their last path segment.
 */
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import { checkJsonDepth, parseWith } from '../validate';
import {
  MAX_FILES_PER_JOB,
  parseAddress,
  splitAddressSuffix,
  type FlashFile,
} from '../flasher/jobs/flash-request';

/** What @fastify/multipart's `parts()` yields (the subset we use). */
interface FilePart {
  type: 'file';
  fieldname: string;
  filename: string;
  toBuffer(): Promise<Buffer>;
}
interface FieldPart {
  type: 'field';
  fieldname: string;
  value: unknown;
}
type Part = FilePart | FieldPart;
type MultipartRequest = FastifyRequest & {
  isMultipart(): boolean;
  parts(): AsyncIterableIterator<Part>;
};

export interface Upload {
  files: FlashFile[];
  /** The parsed `options` JSON (still unknown: the route validates it with its schema). */
  options: unknown;
  elf?: Uint8Array;
  /** Other text fields, by name (last value wins). */
  fields: Record<string, string>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const JsonImageSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    data: Type.String({ minLength: 1 }),
    address: Type.Optional(
      Type.Union([
        Type.Integer({ minimum: 0, maximum: 0xffffffff }),
        Type.String({ pattern: '^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$' }),
      ]),
    ),
  },
  { additionalProperties: false },
);

/** Last path segment, no control characters, at most 200 characters. */
export function safeFileName(name: string, fallback: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\x00-\x1f\x7f]/g, '').trim();
  return (base === '' ? fallback : base).slice(0, 200);
}

function isMultipart(req: FastifyRequest): req is MultipartRequest {
  const r = req as Partial<MultipartRequest>;
  return typeof r.isMultipart === 'function' && r.isMultipart();
}

/** Nesting allowed in the `options` part: flash options are a flat object with small lists. */
const MAX_OPTIONS_DEPTH = 16;

function parseOptionsText(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    throw new HubError('invalid_json', `options is not valid JSON: ${(err as Error).message}`);
  }
  checkJsonDepth(parsed, MAX_OPTIONS_DEPTH, 'options');
  return parsed;
}

/**
 * What a failure while reading the parts means for the client (issue 7 item 8): our own coded
 * errors pass through, the multipart plugin's size limits are a 413, and everything else the
 * parser throws (a body cut off before its closing boundary, no boundary, broken part headers)
 * is a malformed upload, a 400 and never a 500.
 */
export function multipartFailure(err: unknown): HubError {
  if (err instanceof HubError) return err;
  const e = err as { statusCode?: unknown; message?: unknown };
  const detail = typeof e.message === 'string' ? e.message : String(err);
  if (e.statusCode === 413) return new HubError('too_large', detail);
  return new HubError('multipart_invalid', `multipart body is malformed: ${detail}`);
}

/** Decodes the JSON body's images; `maxBytes` bounds each one and their sum. */
export function imagesFromJson(images: unknown, maxBytes: number): FlashFile[] {
  const list = parseWith(Type.Array(JsonImageSchema, { maxItems: MAX_FILES_PER_JOB }), images);
  let total = 0;
  return list.map((img, i) => {
    const compact = img.data.replace(/\s+/g, '');
    if (!BASE64.test(compact) || compact.length % 4 === 1) {
      throw new HubError('validation_failed', `/images/${i}/data: not valid base64`);
    }
    const data = new Uint8Array(Buffer.from(compact, 'base64'));
    total += data.length;
    if (data.length > maxBytes || total > maxBytes) {
      throw new HubError('too_large', `images larger than ${maxBytes} bytes`);
    }
    const address =
      img.address === undefined
        ? undefined
        : typeof img.address === 'number'
          ? img.address
          : parseAddress(img.address);
    const name = safeFileName(img.name ?? '', `image${i}.bin`);
    return { name, data, ...(address !== undefined ? { address } : {}) };
  });
}

/**
 * Reads a multipart upload. Throws HubError: too_large (a file or the total over the limit),
 * validation_failed (unknown file field, address count or value wrong), invalid_json (options).
 */
export async function readMultipart(
  req: FastifyRequest,
  maxBytes: number,
  opts: { allowElf?: boolean } = {},
): Promise<Upload> {
  if (!isMultipart(req)) throw new HubError('bad_request', 'expected multipart/form-data');
  const raw: { name: string; data: Uint8Array }[] = [];
  const addresses: string[] = [];
  const fields: Record<string, string> = {};
  let optionsText: string | undefined;
  let elf: Uint8Array | undefined;
  let total = 0;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const isElf = part.fieldname === 'elf';
        if (!isElf && part.fieldname !== 'file' && part.fieldname !== 'files') {
          // Drain it so the request ends cleanly, then refuse.
          await part.toBuffer().catch(() => undefined);
          throw new HubError('validation_failed', `unexpected file field '${part.fieldname}'`);
        }
        if (isElf && !opts.allowElf) {
          await part.toBuffer().catch(() => undefined);
          throw new HubError('validation_failed', "an 'elf' file is not accepted here");
        }
        const buf = await part.toBuffer();
        total += buf.length;
        if (total > maxBytes)
          throw new HubError('too_large', `upload larger than ${maxBytes} bytes`);
        const data = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
        if (isElf) elf = data;
        else {
          if (raw.length >= MAX_FILES_PER_JOB) {
            throw new HubError('validation_failed', `at most ${MAX_FILES_PER_JOB} files`);
          }
          raw.push({ name: part.filename || `image${raw.length}.bin`, data });
        }
      } else {
        const value = typeof part.value === 'string' ? part.value : String(part.value);
        if (part.fieldname === 'options') optionsText = value;
        else if (part.fieldname === 'address') addresses.push(value);
        else fields[part.fieldname] = value;
      }
    }
  } catch (err) {
    throw multipartFailure(err);
  }
  if (addresses.length > 0 && addresses.length !== raw.length) {
    throw new HubError(
      'validation_failed',
      `${addresses.length} address fields for ${raw.length} files: give one per file, in order, or use name@0x1000 file names`,
    );
  }
  const files: FlashFile[] = raw.map((f, i) => {
    const split = splitAddressSuffix(f.name);
    const name = safeFileName(split.name, `image${i}.bin`);
    let address = split.address;
    const field = addresses[i];
    if (field !== undefined && field.trim() !== '') {
      const parsed = parseAddress(field);
      if (parsed === undefined) {
        throw new HubError(
          'validation_failed',
          `address '${field.slice(0, 40)}' for ${name} is not a number`,
        );
      }
      if (address !== undefined && address !== parsed) {
        throw new HubError(
          'validation_failed',
          `${name}: the file name and the address field disagree`,
        );
      }
      address = parsed;
    }
    return { name, data: f.data, ...(address !== undefined ? { address } : {}) };
  });
  return {
    files,
    options: optionsText === undefined ? {} : parseOptionsText(optionsText),
    ...(elf ? { elf } : {}),
    fields,
  };
}

export { isMultipart };
