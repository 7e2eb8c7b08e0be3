/**
 * Mongoose OS `fw.zip` bundles (PROTOCOL.md 6: "a zip with manifest.json (name, platform,
 * version, build_id, parts{..})"). `mos build` nests everything in one folder
 * (`<app>/manifest.json`), older builds put it at the root: the shallowest manifest wins.
 * Parsing is pure; `readFwZipManifest` inflates only the manifest (through safe-unzip.ts).
 */
import Type from 'typebox';
import { HubError } from '../../shared/errors';
import { firstProblem } from '../validate';
import { DEFAULT_ZIP_LIMITS, unzipSafe, type UnzipOptions, type ZipSource } from './safe-unzip';

const Offset = Type.Union([
  Type.Integer({ minimum: 0, maximum: 0xffffffff }),
  Type.String({ pattern: '^(0[xX][0-9a-fA-F]+|[0-9]+)$' }),
]);

export const MosPartSchema = Type.Object({
  src: Type.Optional(Type.String({ minLength: 1 })),
  addr: Type.Optional(Offset),
  type: Type.Optional(Type.String()),
  size: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 * 1024 * 1024 })),
  fill: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
  cs_sha1: Type.Optional(Type.String()),
});

export const MosManifestSchema = Type.Object({
  name: Type.Optional(Type.String()),
  platform: Type.String({ minLength: 1 }),
  version: Type.Optional(Type.String()),
  build_id: Type.Optional(Type.String()),
  parts: Type.Record(Type.String(), MosPartSchema),
});
export type MosManifest = Type.Static<typeof MosManifestSchema>;

/** Most bytes a manifest.json may inflate to: real ones are about 2 KB. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

export function isManifestName(name: string): boolean {
  return name === 'manifest.json' || /^[^/]+\/manifest\.json$/.test(name);
}

/** The manifest among an archive's entry names (the shallowest), if any. */
export function manifestEntryName(names: Iterable<string>): string | undefined {
  return [...names].filter(isManifestName).sort((a, b) => a.length - b.length)[0];
}

/** The folder the manifest's `src` paths are relative to ("app/" or ""). */
export function manifestBase(manifestName: string): string {
  return manifestName.slice(0, manifestName.length - 'manifest.json'.length);
}

/** JSON text of a manifest -> the manifest; throws `image_invalid` naming the problem. */
export function parseMosManifest(bytes: Uint8Array, what = 'manifest.json'): MosManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (err) {
    throw new HubError('image_invalid', `${what} is not valid JSON: ${(err as Error).message}`);
  }
  return checkMosManifest(value, what);
}

export function checkMosManifest(value: unknown, what = 'manifest.json'): MosManifest {
  const problem = firstProblem(MosManifestSchema, value);
  if (problem)
    throw new HubError('image_invalid', `${what} is not a Mongoose OS manifest: ${problem}`);
  return value as MosManifest;
}

/**
 * Reads the manifest of a fw.zip held in memory or on disk. Only the manifest is inflated (capped
 * at MAX_MANIFEST_BYTES); the archive's names are all checked. Throws `image_invalid`.
 */
export async function readFwZipManifest(
  archive: Uint8Array | ZipSource,
  opts: Pick<UnzipOptions, 'limits'> = {},
): Promise<{ manifest: MosManifest; entry: string }> {
  const files = await unzipSafe(archive, {
    limits: {
      ...(opts.limits ?? DEFAULT_ZIP_LIMITS),
      maxEntryBytes: MAX_MANIFEST_BYTES,
      maxTotalBytes: 2 * MAX_MANIFEST_BYTES,
    },
    filter: (e) => isManifestName(e.name),
  });
  const entry = manifestEntryName(files.keys());
  const bytes = entry === undefined ? undefined : files.get(entry);
  if (entry === undefined || bytes === undefined) {
    throw new HubError(
      'image_invalid',
      'the zip has no manifest.json (expected a Mongoose OS fw.zip)',
    );
  }
  return { manifest: parseMosManifest(bytes, entry), entry };
}
