/**
 * Input schemas of the local flasher API (`/api/v2/local/*`, master key). The flash options
 * themselves live beside the job code (flasher/jobs/flash-request.ts) and are reused here.
 */
import Type from 'typebox';
import {
  FlashOptionProperties,
  MAX_FILES_PER_JOB,
  PortSchema,
} from '../flasher/jobs/flash-request';
import { MAX_BENCH_PORTS } from '../flasher/bench/bench-run';
import { JsonImageSchema } from './local-uploads';

export const JobIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
});

const Images = Type.Array(JsonImageSchema, { minItems: 1, maxItems: MAX_FILES_PER_JOB });

/** `POST /api/v2/local/flash` as JSON: the options plus base64 images. */
export const FlashJsonBody = Type.Object(
  { port: PortSchema, ...FlashOptionProperties, images: Images },
  { additionalProperties: false },
);

export const BenchOptionsSchema = Type.Object(
  {
    ports: Type.Array(PortSchema, { minItems: 1, maxItems: MAX_BENCH_PORTS }),
    ...FlashOptionProperties,
  },
  { additionalProperties: false },
);

/** `POST /api/v2/local/bench` as JSON. */
export const BenchJsonBody = Type.Object(
  {
    ports: Type.Array(PortSchema, { minItems: 1, maxItems: MAX_BENCH_PORTS }),
    ...FlashOptionProperties,
    images: Images,
  },
  { additionalProperties: false },
);

/** Query of the monitor WebSocket `/api/v2/local/monitor`. */
export const MonitorQuery = Type.Object({
  port: PortSchema,
  baud: Type.Optional(Type.String({ pattern: '^[0-9]{2,8}$' })),
  /** 'lines' (default): text lines; 'data': raw bytes as base64; 'both'. */
  format: Type.Optional(
    Type.Union([Type.Literal('lines'), Type.Literal('data'), Type.Literal('both')]),
  ),
  access_token: Type.Optional(Type.String()),
});

export const SymbolsQuery = Type.Object({ port: Type.Optional(PortSchema) });
