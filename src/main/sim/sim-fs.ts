/**
 * The simulated device's flash file system: a flat namespace of named byte buffers, like SPIFFS
 * on an ESP32. It backs the `FS.*` methods (PROTOCOL.md 2, built-in parameter shapes) and the
 * data spool (PROTOCOL.md 5). Pure: no Node I/O, survives simulated reboots.
 */
import { FIRMWARE_ERROR, RpcFault } from './rpc-fault';

/** Longest file name SPIFFS accepts (SPIFFS_OBJ_NAME_LEN minus the terminator). */
export const MAX_FILENAME_LENGTH = 31;

export interface SimFsOptions {
  /** Bytes of file data the flash can hold; writes past it fail like a full SPIFFS. */
  capacityBytes?: number;
}

export const DEFAULT_FS_CAPACITY = 1024 * 1024;

export class SimFs {
  private readonly files = new Map<string, Buffer>();
  private used = 0;
  readonly capacityBytes: number;

  constructor(initial: Record<string, Buffer> = {}, opts: SimFsOptions = {}) {
    this.capacityBytes = opts.capacityBytes ?? DEFAULT_FS_CAPACITY;
    for (const [name, data] of Object.entries(initial)) this.write(name, data);
  }

  list(): string[] {
    return [...this.files.keys()];
  }

  listExt(): { name: string; size: number }[] {
    return [...this.files].map(([name, data]) => ({ name, size: data.length }));
  }

  has(name: string): boolean {
    return this.files.has(name);
  }

  /** The file's bytes (a copy), or undefined when it does not exist. */
  read(name: string): Buffer | undefined {
    const data = this.files.get(name);
    return data === undefined ? undefined : Buffer.from(data);
  }

  size(name: string): number | undefined {
    return this.files.get(name)?.length;
  }

  get usedBytes(): number {
    return this.used;
  }

  /**
   * Reads up to `len` bytes at `offset`; `left` is what remains after this chunk, so a reader
   * loops until it is 0 (PROTOCOL.md 5 spool drain). Reading past the end returns no data.
   */
  readChunk(name: string, offset: number, len: number): { data: Buffer; left: number } {
    const file = this.files.get(name);
    if (file === undefined) throw notFound(name);
    const start = Math.min(offset, file.length);
    const end = Math.min(start + len, file.length);
    return { data: file.subarray(start, end), left: file.length - end };
  }

  /** Creates or replaces a file, or appends to it (created when missing). */
  write(name: string, data: Buffer, append = false): number {
    checkName(name);
    const old = this.files.get(name);
    const next = append && old !== undefined ? Buffer.concat([old, data]) : Buffer.from(data);
    const growth = next.length - (old?.length ?? 0);
    if (this.used + growth > this.capacityBytes) {
      throw new RpcFault(FIRMWARE_ERROR, `no space left on device (writing ${name})`);
    }
    this.files.set(name, next);
    this.used += growth;
    return data.length;
  }

  remove(name: string): void {
    const old = this.files.get(name);
    if (old === undefined) throw notFound(name);
    this.files.delete(name);
    this.used -= old.length;
  }

  /** POSIX rename: an existing destination is replaced (the mDash library removes it first). */
  rename(src: string, dst: string): void {
    const data = this.files.get(src);
    if (data === undefined) throw notFound(src);
    checkName(dst);
    if (src === dst) return;
    const replaced = this.files.get(dst);
    if (replaced !== undefined) this.used -= replaced.length;
    this.files.delete(src);
    this.files.set(dst, data);
  }
}

function notFound(name: string): RpcFault {
  return new RpcFault(FIRMWARE_ERROR, `file not found: ${name}`);
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > MAX_FILENAME_LENGTH || name.includes('\0')) {
    throw new RpcFault(
      FIRMWARE_ERROR,
      `invalid file name ${JSON.stringify(name)} (1..${MAX_FILENAME_LENGTH} characters)`,
    );
  }
}
