/**
 * The firmware library (issue 8, PROTOCOL.md 6 and 9), used by the REST routes, the CLI and OTA:
 * files content-addressed under `<dataDir>/firmware/<sha256>` (same bytes twice = one firmware),
 * metadata from the files themselves (firmware-inspect.ts) in SQLite (store/firmware-repo.ts),
 * ELFs linked to the images built from them, the fw_id each firmware produces, and what each
 * device was given.
 *
 * Uploads arrive as streams: `stage()` streams one into a temporary file while hashing and
 * capping it, `add()` inspects the staged file, checks the quota and renames it into place. A
 * file is never held in memory whole.
 */
import { createReadStream, mkdirSync, readdirSync, rmSync, type ReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HubError } from '../../shared/errors';
import type { FirmwareInstall, FirmwareObject } from '../../shared/firmware';
import type { FirmwareLimits } from '../config';
import type { FirmwareRepo } from '../store/firmware-repo';
import { randomId } from '../store/secrets';
import { ingestToTemp, TEMP_PREFIX, type Ingested } from './content-hash';
import { elfIdent, elfShaMatches } from './elf-identity';
import { inspectFirmwareFile } from './firmware-inspect';
import { zipLimitsOf } from './safe-unzip';

/** Folder of the library inside a data dir. */
export const FIRMWARE_DIR = 'firmware';

/** An upload streamed to a temporary file, not yet in the library. */
export interface Staged extends Ingested {
  kind: 'image' | 'elf';
  /** The uploaded file's name (a label; nothing is written under it). */
  name: string;
}

export type FirmwareSource = Readable | string | Staged;

export interface AddOptions {
  /** Label for the file (default: the path's last segment, or "firmware.bin"). */
  fileName?: string;
  notes?: string;
  elf?: FirmwareSource;
  elfName?: string;
}

export interface AddResult {
  firmware: FirmwareObject;
  /** False when the same bytes were already in the library (the existing one is returned). */
  created: boolean;
}

export interface FirmwareDownload {
  stream: ReadStream;
  size: number;
  fileName: string;
}

const NOTES_MAX = 4096;

function isStaged(s: FirmwareSource): s is Staged {
  return typeof s === 'object' && 'sha256' in s && 'kind' in s;
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** Last path segment, no control characters, at most 200 characters. */
function label(name: string | undefined, fallback: string): string {
  // eslint-disable-next-line no-control-regex
  const CONTROL_OR_QUOTE = /[\x00-\x1f\x7f"]/g;
  const clean = baseName(name ?? '')
    .replace(CONTROL_OR_QUOTE, '')
    .trim();
  return (clean === '' ? fallback : clean).slice(0, 200);
}

export class FirmwareLibrary {
  readonly dir: string;
  private inUse: (id: string) => boolean = () => false;

  constructor(
    dataDir: string,
    private readonly repo: FirmwareRepo,
    private readonly limits: FirmwareLimits,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.dir = join(dataDir, FIRMWARE_DIR);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Uploads cut short by a crash leave temporary files; nothing refers to them.
    for (const f of readdirSync(this.dir)) {
      if (f.startsWith(TEMP_PREFIX)) rmSync(join(this.dir, f), { force: true });
    }
  }

  /**
   * The rollout code tells the library which firmware an active rollout uses: such firmware
   * cannot be deleted (409). Until then nothing is in use.
   */
  setInUseCheck(isInUse: (id: string) => boolean): void {
    this.inUse = isInUse;
  }

  isInUse(id: string): boolean {
    return this.inUse(id);
  }

  /** Streams an upload into a temporary file, hashing and capping it (413 past the cap). */
  async stage(source: Readable | string, kind: Staged['kind'], name?: string): Promise<Staged> {
    const max = kind === 'image' ? this.limits.maxImageBytes : this.limits.maxElfBytes;
    const what = kind === 'image' ? 'the firmware file' : 'the ELF file';
    const fallback = kind === 'image' ? 'firmware.bin' : 'firmware.elf';
    const fileName = label(name ?? (typeof source === 'string' ? source : undefined), fallback);
    const ingested = await ingestToTemp(source, this.dir, max, what);
    return { ...ingested, kind, name: fileName };
  }

  /** Removes a staged file that will not be added. */
  async discard(staged: Staged | undefined): Promise<void> {
    if (staged) await rm(staged.path, { force: true });
  }

  private async staged(s: FirmwareSource, kind: Staged['kind'], name?: string): Promise<Staged> {
    if (isStaged(s)) return s;
    return this.stage(s, kind, name);
  }

  /**
   * Adds a firmware file (and optionally its ELF). Throws too_large (file over the cap),
   * library_full (quota), image_invalid (not a firmware, or an ELF that is not this image's),
   * zip_bomb. Staged inputs are consumed either way.
   */
  async add(file: FirmwareSource, opts: AddOptions = {}): Promise<AddResult> {
    let image: Staged | undefined;
    let elf: Staged | undefined;
    try {
      image = await this.staged(file, 'image', opts.fileName);
      if (opts.elf !== undefined) elf = await this.staged(opts.elf, 'elf', opts.elfName);
      const existing = this.repo.bySha256(image.sha256);
      if (existing) {
        await this.discard(image);
        image = undefined;
        if (elf) {
          const linked = await this.linkElf(elf, existing);
          elf = undefined;
          return { firmware: linked, created: false };
        }
        return { firmware: existing, created: false };
      }
      const facts = await inspectFirmwareFile(image.path, image.name, zipLimitsOf(this.limits));
      if (elf) await this.checkElf(elf, facts.app?.elf_sha256, image.name);
      const elfBytes = elf && this.repo.elfUsers(elf.sha256) === 0 ? elf.size : 0;
      this.checkQuota(image.size + elfBytes);
      await rename(image.path, join(this.dir, image.sha256));
      const { sha256, size, name } = image;
      image = undefined;
      let firmware: FirmwareObject;
      try {
        firmware = this.repo.insert({
          id: randomId('fw', 12),
          sha256,
          ...facts,
          size,
          created: this.now(),
          notes: (opts.notes ?? '').slice(0, NOTES_MAX),
          file_name: name,
        });
      } catch (err) {
        // The same bytes uploaded twice at once: the other upload inserted first (the renamed
        // file holds identical bytes either way).
        const winner = this.repo.bySha256(sha256);
        if (!winner) throw err;
        return { firmware: winner, created: false };
      }
      if (elf) {
        await rename(elf.path, join(this.dir, elf.sha256));
        this.repo.setElf(firmware.id, elf.sha256, elf.size);
        elf = undefined;
      } else if (facts.app) {
        this.linkKnownElf(firmware.id, facts.app.elf_sha256);
      }
      return { firmware: this.get(firmware.id), created: true };
    } finally {
      await this.discard(image);
      await this.discard(elf);
    }
  }

  /**
   * Attaches an ELF: to firmware `id`, or (without an id) to every firmware whose app descriptor
   * names it. Throws image_invalid (not an ELF, or not the one the image was built from),
   * firmware_not_found (no such id; or no firmware built from this ELF).
   */
  async attachElf(
    source: FirmwareSource,
    opts: { id?: string; fileName?: string } = {},
  ): Promise<FirmwareObject[]> {
    let elf: Staged | undefined = await this.staged(source, 'elf', opts.fileName);
    try {
      if (opts.id !== undefined) {
        const target = this.get(opts.id);
        const linked = await this.linkElf(elf, target);
        elf = undefined;
        return [linked];
      }
      await this.checkElf(elf, undefined, elf.name);
      const matches = this.repo.byAppElf(elf.sha256);
      if (matches.length === 0) {
        throw new HubError(
          'firmware_not_found',
          `no firmware in the library was built from this ELF (SHA-256 ${elf.sha256.slice(0, 16)}...): add the image first`,
        );
      }
      const [first, ...rest] = matches;
      if (!first) throw new HubError('internal');
      const { sha256, size } = elf;
      await this.linkElf(elf, first);
      elf = undefined;
      for (const f of rest) this.repo.setElf(f.id, sha256, size);
      return matches.map((f) => this.get(f.id));
    } finally {
      await this.discard(elf);
    }
  }

  /** Verifies a staged ELF (and its match with `appElfSha`), moves it into place, links it. */
  private async linkElf(elf: Staged, target: FirmwareObject): Promise<FirmwareObject> {
    try {
      await this.checkElf(elf, target.app?.elf_sha256, target.name);
      if (target.elf_sha256 !== elf.sha256) {
        const fresh = this.repo.elfUsers(elf.sha256) === 0;
        if (fresh) this.checkQuota(elf.size);
        const previous = target.elf_sha256;
        await rename(elf.path, join(this.dir, elf.sha256));
        this.repo.setElf(target.id, elf.sha256, elf.size);
        if (previous !== undefined) await this.dropElfIfUnused(previous);
      }
      return this.get(target.id);
    } finally {
      await this.discard(elf);
    }
  }

  private async checkElf(elf: Staged, appElfSha: string | undefined, what: string): Promise<void> {
    const handle = await open(elf.path, 'r');
    const head = Buffer.alloc(64);
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    if (!elfIdent(head)) {
      throw new HubError('image_invalid', `${elf.name} is not an ELF file (no \\x7fELF magic)`);
    }
    if (appElfSha !== undefined && !elfShaMatches(elf.sha256, appElfSha)) {
      throw new HubError(
        'image_invalid',
        `${elf.name} is not the ELF ${what} was built from: its SHA-256 is ${elf.sha256.slice(0, 16)}..., ` +
          `the image's app descriptor names ${appElfSha.slice(0, 16)}...`,
      );
    }
  }

  /** A new image whose descriptor names an ELF the library already holds gets it at once. */
  private linkKnownElf(id: string, appElfSha: string): void {
    for (const other of this.repo.list()) {
      if (other.elf_sha256 !== undefined && elfShaMatches(other.elf_sha256, appElfSha)) {
        const size = this.repo.elfSize(other.elf_sha256);
        this.repo.setElf(id, other.elf_sha256, size);
        return;
      }
    }
  }

  private checkQuota(adding: number): void {
    const used = this.repo.totalBytes();
    const max = this.limits.maxLibraryBytes;
    if (used + adding > max) {
      throw new HubError(
        'library_full',
        `the firmware library holds ${used} of its ${max}-byte quota and ${adding} more bytes do not fit: ` +
          'delete firmware you no longer need, or raise firmware.maxLibraryBytes',
      );
    }
  }

  list(): FirmwareObject[] {
    return this.repo.list();
  }

  /** One firmware; throws firmware_not_found. */
  get(id: string): FirmwareObject {
    const f = this.repo.get(id);
    if (!f) throw new HubError('firmware_not_found', `no firmware '${id}'`);
    return f;
  }

  /** Where a firmware's bytes are (OTA streams them from here in chunks). */
  pathOf(id: string): string {
    return join(this.dir, this.get(id).sha256);
  }

  /** Where a firmware's ELF is, or null when none is attached. */
  elfPathOf(id: string): string | null {
    const f = this.get(id);
    return f.elf_sha256 === undefined ? null : join(this.dir, f.elf_sha256);
  }

  /** The file's bytes as a stream, with its size and a file name for downloads. */
  async openStream(id: string): Promise<FirmwareDownload> {
    const f = this.get(id);
    const path = join(this.dir, f.sha256);
    const { size } = await stat(path).catch(() => {
      throw new HubError('firmware_not_found', `the file of firmware '${id}' is missing`);
    });
    const ext = f.format === 'fw.zip' ? '.zip' : '.bin';
    const fileName = f.file_name !== '' ? f.file_name : `${f.name}${ext}`;
    return { stream: createReadStream(path), size, fileName };
  }

  /** Deletes a firmware and its files (409 `conflict` while an active rollout uses it). */
  async remove(id: string): Promise<true> {
    const f = this.get(id);
    if (this.inUse(id)) {
      throw new HubError('conflict', `firmware '${id}' is used by an active rollout`);
    }
    this.repo.remove(id);
    await rm(join(this.dir, f.sha256), { force: true });
    if (f.elf_sha256 !== undefined) await this.dropElfIfUnused(f.elf_sha256);
    return true;
  }

  private async dropElfIfUnused(elfSha: string): Promise<void> {
    if (this.repo.elfUsers(elfSha) === 0) await rm(join(this.dir, elfSha), { force: true });
  }

  /** The firmware devices report as `fwId` (learned, or a fw.zip's build id). */
  findByFwId(fwId: string): FirmwareObject | undefined {
    return this.repo.findByFwId(fwId);
  }

  /** A device now runs `firmwareId` and reports `fwId` (PROTOCOL.md 6: learned on first update). */
  recordInstall(device: string, firmwareId: string, fwId: string): void {
    this.get(firmwareId);
    this.repo.recordInstall(device, firmwareId, fwId, this.now());
  }

  /** What was installed on a device, oldest first (the previous one is the rollback target). */
  installedOn(device: string): FirmwareInstall[] {
    return this.repo.installedOn(device);
  }
}
