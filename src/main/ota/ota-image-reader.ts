/**
 * Reads a firmware file chunk by chunk for one OTA job (issue 8: "100 concurrent jobs must not
 * hold 100 copies of the image"): one FileHandle and one reused buffer of at most one chunk per
 * job, so a job costs one chunk of memory whatever the image size.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** PROTOCOL.md 6: `OTA.Write` carries at most 2048 raw bytes. */
export const OTA_CHUNK_BYTES = 2048;

export class OtaImageReader {
  private readonly buf: Buffer;
  /** Reads done so far (tests check that the file is read piece by piece). */
  reads = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    chunkBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
  }

  static async open(path: string, chunkBytes = OTA_CHUNK_BYTES): Promise<OtaImageReader> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      return new OtaImageReader(handle, size, chunkBytes);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * The bytes at `offset` (at most one chunk), as base64. The returned string is the only copy
   * that outlives the call: the buffer is overwritten by the next read.
   */
  async chunkAt(offset: number): Promise<{ data: string; length: number }> {
    const want = Math.min(this.buf.length, this.size - offset);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(this.buf, got, want - got, offset + got);
      if (bytesRead === 0)
        throw new Error(`firmware file ended at ${offset + got} of ${this.size}`);
      got += bytesRead;
    }
    this.reads++;
    return { data: this.buf.toString('base64', 0, got), length: got };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
