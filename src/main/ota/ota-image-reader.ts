/**
 * Reads a firmware file chunk by chunk for one OTA job (issue 8: "100 concurrent jobs must not
 * hold 100 copies of the image"). The file is read in blocks of `OTA_READ_BLOCK_BYTES` (one
 * thread-pool read per 32 chunks instead of one per chunk: a read per 2 KB chunk was 19% of the
 * hub's time with 100 jobs, bench/RESULTS.md), and the next block is read while the current one is
 * being sent, so the disk is never in series with the device round trips. A job holds at most two
 * blocks (64 KB; 6.4 MB for 100 jobs) whatever the image size.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** PROTOCOL.md 6: `OTA.Write` carries at most 2048 raw bytes. */
export const OTA_CHUNK_BYTES = 2048;

/** One file read covers this many bytes (a whole number of chunks). */
export const OTA_READ_BLOCK_BYTES = 32 * 1024;

interface Block {
  offset: number;
  length: number;
  buf: Buffer;
}

export class OtaImageReader {
  private readonly blockBytes: number;
  private current: Block | null = null;
  /** The read of the block after `current`, started as soon as `current` is in use. */
  private next: Promise<Block> | null = null;
  private nextOffset = -1;
  /** Two buffers used in turn, so a prefetch never overwrites the block being sliced. */
  private readonly bufs: [Buffer, Buffer];
  private turn = 0;
  /** File reads done so far (tests check that the file is read piece by piece). */
  reads = 0;

  private constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly chunkBytes: number,
    blockBytes: number,
  ) {
    const chunk = Math.max(1, chunkBytes);
    // A whole number of chunks, so no chunk straddles two blocks.
    const block = Math.max(chunk, Math.floor(blockBytes / chunk) * chunk);
    this.blockBytes = Math.max(1, Math.min(block, size));
    this.bufs = [Buffer.allocUnsafe(this.blockBytes), Buffer.allocUnsafe(this.blockBytes)];
  }

  static async open(
    path: string,
    chunkBytes = OTA_CHUNK_BYTES,
    blockBytes = OTA_READ_BLOCK_BYTES,
  ): Promise<OtaImageReader> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      return new OtaImageReader(handle, size, chunkBytes, blockBytes);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * The bytes at `offset` (at most one chunk), as base64: the only copy that outlives the call.
   * Chunks are expected in order; any other offset still works, at the cost of a read.
   */
  async chunkAt(offset: number): Promise<{ data: string; length: number }> {
    return this.chunkIn(await this.blockFor(offset), offset);
  }

  /**
   * The chunk at `offset` when the block holding it is already in memory (31 chunks of 32), else
   * null: `chunkAt` is then needed. Lets the transfer loop skip two promise hops per chunk.
   */
  chunkNow(offset: number): { data: string; length: number } | null {
    const cur = this.current;
    if (!cur || offset < cur.offset || offset >= cur.offset + cur.length) return null;
    return this.chunkIn(cur, offset);
  }

  private chunkIn(block: Block, offset: number): { data: string; length: number } {
    const start = offset - block.offset;
    const length = Math.min(this.chunkBytes, block.length - start);
    return { data: block.buf.toString('base64', start, start + length), length };
  }

  private async blockFor(offset: number): Promise<Block> {
    const cur = this.current;
    if (cur && offset >= cur.offset && offset < cur.offset + cur.length) return cur;
    const blockStart = Math.floor(offset / this.blockBytes) * this.blockBytes;
    let block: Block;
    if (this.next && this.nextOffset === blockStart) {
      block = await this.next;
    } else {
      if (this.next) await this.next.catch(() => undefined); // never two reads into one buffer
      block = await this.readBlock(blockStart);
    }
    this.current = block;
    this.next = null;
    const following = blockStart + block.length;
    if (following < this.size) {
      this.nextOffset = following;
      this.next = this.readBlock(following);
      // Failures surface when the block is asked for; an unused prefetch must not go unhandled.
      this.next.catch(() => undefined);
    }
    return block;
  }

  private async readBlock(offset: number): Promise<Block> {
    const buf = this.bufs[this.turn]!;
    this.turn ^= 1;
    const want = Math.min(buf.length, this.size - offset);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(buf, got, want - got, offset + got);
      if (bytesRead === 0)
        throw new Error(`firmware file ended at ${offset + got} of ${this.size}`);
      got += bytesRead;
    }
    this.reads++;
    return { offset, length: got, buf };
  }

  async close(): Promise<void> {
    // A prefetch in flight still uses the handle.
    if (this.next) await this.next.catch(() => undefined);
    this.next = null;
    await this.handle.close();
  }
}
