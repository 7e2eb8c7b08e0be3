/**
 * Firmware library rows and per-device install history (migration 2; PROTOCOL.md 6, 9). The files
 * themselves are on disk (firmware/firmware-library.ts); this holds what was learned about them.
 */
import type { Db } from './database';
import type {
  FirmwareAppInfo,
  FirmwareFormat,
  FirmwareInstall,
  FirmwareObject,
} from '../../shared/firmware';

interface Row {
  id: string;
  sha256: string;
  name: string;
  version: string;
  platform: string;
  build_id: string;
  format: FirmwareFormat;
  size: number;
  created: number;
  notes: string;
  file_name: string;
  chip_id: number | null;
  app_project: string | null;
  app_version: string | null;
  app_idf: string | null;
  app_date: string | null;
  app_time: string | null;
  app_elf_sha256: string | null;
  elf_sha256: string | null;
  elf_size: number | null;
  fw_id: string | null;
}

interface InstallRow {
  device_id: string;
  firmware_id: string | null;
  fw_id: string;
  installed: number;
}

export interface NewFirmware {
  id: string;
  sha256: string;
  name: string;
  version: string;
  platform: string;
  build_id: string;
  format: FirmwareFormat;
  size: number;
  created: number;
  notes: string;
  file_name: string;
  chip_id?: number;
  app?: FirmwareAppInfo;
}

function toObject(r: Row): FirmwareObject {
  const app: FirmwareAppInfo | undefined =
    r.app_elf_sha256 === null
      ? undefined
      : {
          project: r.app_project ?? '',
          version: r.app_version ?? '',
          idf: r.app_idf ?? '',
          date: r.app_date ?? '',
          time: r.app_time ?? '',
          elf_sha256: r.app_elf_sha256,
        };
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    platform: r.platform,
    build_id: r.build_id,
    format: r.format,
    size: r.size,
    sha256: r.sha256,
    created: r.created,
    elf: r.elf_sha256 !== null,
    notes: r.notes,
    file_name: r.file_name,
    ...(r.chip_id !== null && { chip_id: r.chip_id }),
    ...(app && { app }),
    ...(r.elf_sha256 !== null && { elf_sha256: r.elf_sha256 }),
    ...(r.fw_id !== null && { fw_id: r.fw_id }),
  };
}

export class FirmwareRepo {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO firmware (id, sha256, name, version, platform, build_id, format, size, created,
           notes, file_name, chip_id, app_project, app_version, app_idf, app_date, app_time,
           app_elf_sha256)
         VALUES (@id, @sha256, @name, @version, @platform, @build_id, @format, @size, @created,
           @notes, @file_name, @chip_id, @app_project, @app_version, @app_idf, @app_date,
           @app_time, @app_elf_sha256)`,
      ),
      all: db.prepare<[], Row>('SELECT * FROM firmware ORDER BY created, id'),
      get: db.prepare<[string], Row>('SELECT * FROM firmware WHERE id = ?'),
      bySha: db.prepare<[string], Row>('SELECT * FROM firmware WHERE sha256 = ?'),
      remove: db.prepare<[string]>('DELETE FROM firmware WHERE id = ?'),
      setElf: db.prepare<[string, number, string]>(
        'UPDATE firmware SET elf_sha256 = ?, elf_size = ? WHERE id = ?',
      ),
      // An ELF's own SHA-256 starts with what the descriptor holds (all 32 bytes in practice;
      // a prefix so that shortened hashes from tools and panic logs match too).
      byAppElf: db.prepare<[string], Row>(
        `SELECT * FROM firmware WHERE app_elf_sha256 IS NOT NULL AND length(app_elf_sha256) >= 8
           AND substr(?, 1, length(app_elf_sha256)) = app_elf_sha256 ORDER BY created, id`,
      ),
      elfSize: db.prepare<[string], { size: number | null }>(
        'SELECT elf_size AS size FROM firmware WHERE elf_sha256 = ? LIMIT 1',
      ),
      elfUsers: db.prepare<[string], { n: number }>(
        'SELECT count(*) AS n FROM firmware WHERE elf_sha256 = ?',
      ),
      totalBytes: db.prepare<[], { total: number }>(
        `SELECT coalesce(sum(size), 0) + coalesce((SELECT sum(elf_size) FROM
           (SELECT DISTINCT elf_sha256, elf_size FROM firmware WHERE elf_sha256 IS NOT NULL)), 0)
           AS total FROM firmware`,
      ),
      learnFwId: db.prepare<[string, string]>(
        'UPDATE firmware SET fw_id = ? WHERE id = ? AND fw_id IS NULL',
      ),
      byFwId: db.prepare<[string], Row>(
        'SELECT * FROM firmware WHERE fw_id = ? ORDER BY created DESC, id LIMIT 1',
      ),
      // Until a device has run it, the build id is the best guess: a fw.zip's build_id is what
      // Mongoose OS reports as fw_id, an app's build time what the Arduino mDash library reports.
      byBuildId: db.prepare<[string], Row>(
        `SELECT * FROM firmware WHERE fw_id IS NULL AND build_id = ? AND build_id != ''
           ORDER BY created DESC, id LIMIT 1`,
      ),
      addInstall: db.prepare<[string, string, string, number]>(
        'INSERT INTO firmware_installs (device_id, firmware_id, fw_id, installed) VALUES (?, ?, ?, ?)',
      ),
      installs: db.prepare<[string], InstallRow>(
        `SELECT device_id, firmware_id, fw_id, installed FROM firmware_installs
           WHERE device_id = ? ORDER BY seq`,
      ),
    };
  }

  insert(f: NewFirmware): FirmwareObject {
    this.stmts.insert.run({
      ...f,
      chip_id: f.chip_id ?? null,
      app_project: f.app?.project ?? null,
      app_version: f.app?.version ?? null,
      app_idf: f.app?.idf ?? null,
      app_date: f.app?.date ?? null,
      app_time: f.app?.time ?? null,
      app_elf_sha256: f.app?.elf_sha256 ?? null,
    });
    const row = this.stmts.get.get(f.id);
    if (!row) throw new Error(`firmware ${f.id} vanished after insert`);
    return toObject(row);
  }

  list(): FirmwareObject[] {
    return this.stmts.all.all().map(toObject);
  }

  get(id: string): FirmwareObject | undefined {
    const row = this.stmts.get.get(id);
    return row ? toObject(row) : undefined;
  }

  bySha256(sha256: string): FirmwareObject | undefined {
    const row = this.stmts.bySha.get(sha256);
    return row ? toObject(row) : undefined;
  }

  /** Firmware whose app descriptor names this ELF (by SHA-256 prefix). */
  byAppElf(elfSha256: string): FirmwareObject[] {
    return this.stmts.byAppElf.all(elfSha256).map(toObject);
  }

  setElf(id: string, elfSha256: string, elfSize: number): void {
    this.stmts.setElf.run(elfSha256, elfSize, id);
  }

  /** Size of a stored ELF (0 when unknown). */
  elfSize(elfSha256: string): number {
    return this.stmts.elfSize.get(elfSha256)?.size ?? 0;
  }

  /** How many firmware rows use this ELF file. */
  elfUsers(elfSha256: string): number {
    return this.stmts.elfUsers.get(elfSha256)?.n ?? 0;
  }

  remove(id: string): boolean {
    return this.stmts.remove.run(id).changes > 0;
  }

  /** Bytes of every stored file (images and distinct ELFs), for the library quota. */
  totalBytes(): number {
    return this.stmts.totalBytes.get()?.total ?? 0;
  }

  findByFwId(fwId: string): FirmwareObject | undefined {
    const row = this.stmts.byFwId.get(fwId) ?? this.stmts.byBuildId.get(fwId);
    return row ? toObject(row) : undefined;
  }

  /**
   * Records that a device now runs a firmware and reports `fwId`; the first report teaches the
   * library which fw_id that firmware produces (PROTOCOL.md 6). One transaction.
   */
  recordInstall(device: string, firmwareId: string, fwId: string, at: number): void {
    this.db.transaction(() => {
      this.stmts.addInstall.run(device, firmwareId, fwId, at);
      if (fwId !== '') this.stmts.learnFwId.run(fwId, firmwareId);
    })();
  }

  installedOn(device: string): FirmwareInstall[] {
    return this.stmts.installs.all(device).map((r) => ({
      device: r.device_id,
      firmware: r.firmware_id,
      fw_id: r.fw_id,
      installed: r.installed,
    }));
  }
}
