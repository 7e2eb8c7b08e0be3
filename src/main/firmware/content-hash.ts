/**
 * Content addressing for the firmware library: a file is streamed to a temporary file while its
 * SHA-256 is computed and its size capped, so an upload is never held in memory whole and an
 * oversized one is cut off as soon as it passes the cap (issue 8: "a size cap ... clear 413").
 * The caller renames the temporary file to `<dir>/<sha256>` (same bytes twice = one file).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished, type Readable } from 'node:stream';
import { HubError, type ErrorName } from '../../shared/errors';

export interface Ingested {
  /** The temporary file holding the bytes (the caller renames or removes it). */
  path: string;
  sha256: string;
  size: number;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Temporary files start with this so a sweep can tell them from stored firmware. */
export const TEMP_PREFIX = '.incoming-';

/**
 * Streams `source` (a readable or a file path) into a temporary file in `dir`, hashing it.
 * Throws `HubError(tooLarge)` once more than `maxBytes` arrived, leaving nothing behind.
 */
export async function ingestToTemp(
  source: Readable | string,
  dir: string,
  maxBytes: number,
  what: string,
  tooLarge: ErrorName = 'too_large',
): Promise<Ingested> {
  const path = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  const hash = createHash('sha256');
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  let size = 0;
  let over = false;
  try {
    await new Promise<void>((resolve, reject) => {
      input.on('data', (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > maxBytes) {
          over = true;
          // A file of ours can stop now; a request body part is drained (not destroyed) so the
          // multipart parser reaches the end of the request and the 413 reply goes out cleanly.
          if (typeof source === 'string') resolve();
          return;
        }
        hash.update(chunk);
        if (!out.write(chunk)) {
          input.pause();
          out.once('drain', () => input.resume());
        }
      });
      // `finished`, not 'end'/'error' listeners: a multipart part the parser gave up on (a body
      // cut off before its closing boundary) can be destroyed before we see it, and waiting for
      // an 'end' that never comes held the request, and the restore route's one-at-a-time lock
      // with it, forever. A premature close is an error here like any other.
      finished(input, (err) => (err ? reject(err) : resolve()));
      out.once('error', reject);
    });
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    // A multipart part cut off by the parser's own limit ends early with `truncated` set.
    if (over || (input as Readable & { truncated?: boolean }).truncated === true) {
      throw new HubError(tooLarge, `${what} is larger than the ${maxBytes}-byte limit`);
    }
  } catch (err) {
    out.destroy();
    if (typeof source === 'string') input.destroy();
    await rm(path, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && typeof source === 'string') {
      throw new HubError('not_found', `${source}: no such file`);
    }
    throw err;
  }
  return { path, sha256: hash.digest('hex'), size };
}
