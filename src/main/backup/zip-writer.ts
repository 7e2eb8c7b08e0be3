/**
 * Writes a zip file entry by entry, streaming: fflate's `Zip` lays out the headers, the data
 * descriptors and the central directory; the bytes of each entry come from disk through node:zlib's
 * deflate (libuv's thread pool, so compressing a 100 MB database never blocks the hub's event
 * loop, unlike fflate's own synchronous `ZipDeflate`), or as they are (`stored`) for firmware and
 * app files that are compressed already or small. Backpressure reaches back to the file read:
 * nothing is ever held in memory beyond a few chunks.
 *
 * Each entry's SHA-256, CRC-32 and size are computed from the same bytes that go into the archive,
 * so the manifest always describes what was written even if a source file changes meanwhile.
 * No zip64: an archive is limited to 4 GiB (zip-directory.ts reads no zip64 either); past that the
 * writer fails rather than write offsets that wrap.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw } from 'node:zlib';
import { Zip, type ZipInputFile } from 'fflate';

/** The largest offset or size a zip without zip64 can hold. */
export const MAX_ZIP_BYTES = 0xffffffff;

export interface WrittenEntry {
  path: string;
  size: number;
  sha256: string;
}

export class ZipFileWriter {
  private readonly zip: Zip;
  private readonly out: WriteStream;
  private failure: Error | null = null;
  private written = 0;
  private readonly closed: Promise<void>;

  constructor(readonly file: string) {
    this.out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    this.closed = new Promise<void>((resolve, reject) => {
      this.out.once('close', resolve);
      this.out.once('error', (err) => {
        this.failure ??= err;
        reject(err);
      });
    });
    // Settled by finish() or abort(); an early write error is reported there, not as unhandled.
    this.closed.catch(() => {});
    this.zip = new Zip((err, chunk, final) => {
      if (err) {
        this.failure ??= err;
        return;
      }
      this.written += chunk.length;
      if (this.written > MAX_ZIP_BYTES) {
        this.failure ??= new Error('the archive would pass 4 GiB (zip without zip64)');
        return;
      }
      this.out.write(chunk);
      if (final) this.out.end();
    });
  }

  /** Bytes of archive produced so far. */
  get bytes(): number {
    return this.written;
  }

  /** Adds the file at `source` as `name`; deflated when `deflate`, else stored. */
  async addFile(name: string, source: string, deflate: boolean): Promise<WrittenEntry> {
    return this.addStream(name, createReadStream(source), deflate);
  }

  /** Adds bytes held in memory (the manifest). */
  async addBytes(name: string, bytes: Uint8Array, deflate: boolean): Promise<WrittenEntry> {
    return this.addStream(name, Readable.from([Buffer.from(bytes)]), deflate);
  }

  private async addStream(name: string, source: Readable, deflate: boolean): Promise<WrittenEntry> {
    this.check();
    const entry: ZipInputFile = {
      filename: name,
      size: 0,
      crc: 0,
      compression: deflate ? 8 : 0,
      // Unix permissions 0600 (made-by Unix): an unzip tool recreates the files owner-only.
      os: 3,
      attrs: (0o100600 << 16) >>> 0,
    };
    this.zip.add(entry);
    const hash = createHash('sha256');
    let crc = 0;
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        crc = crc32(chunk, crc);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const push = (
      chunk: Uint8Array<ArrayBuffer>,
      final: boolean,
      done: (err?: Error | null) => void,
    ): void => {
      entry.ondata?.(null, chunk, final);
      if (this.failure) return done(this.failure);
      if (this.out.writableNeedDrain) this.out.once('drain', () => done());
      else done();
    };
    const sink = new Writable({
      write: (chunk: Buffer<ArrayBuffer>, _enc, done) => push(chunk, false, done),
      final: (done) => {
        entry.size = size;
        entry.crc = crc >>> 0;
        push(new Uint8Array(new ArrayBuffer(0)), true, done);
      },
    });
    if (deflate) await pipeline(source, tap, createDeflateRaw({ level: 6 }), sink);
    else await pipeline(source, tap, sink);
    if (size > MAX_ZIP_BYTES) throw new Error(`${name} is larger than 4 GiB`);
    return { path: name, size, sha256: hash.digest('hex') };
  }

  /** Writes the central directory and closes the file. */
  async finish(): Promise<number> {
    this.check();
    this.zip.end();
    this.check();
    await this.closed;
    this.check();
    return this.written;
  }

  /** Stops writing (the caller removes the file). */
  async abort(): Promise<void> {
    this.zip.terminate();
    this.out.destroy();
    await this.closed.catch(() => {});
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}
