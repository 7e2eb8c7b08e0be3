/**
 * OTA jobs (migration 3; PROTOCOL.md 9). A job is written at every state change (never per
 * progress tick), synchronously: a handful of rows per update, and GET /ota after a restart then
 * shows what the hub knew last.
 */
import type { Db } from './database';
import type { OtaJob } from '../../shared/ota';

interface Row {
  job: string;
}

export class OtaJobsRepo {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      upsert: db.prepare<[string, string, string | null, string, number, string]>(
        `INSERT INTO ota_jobs (id, device_id, rollout, state, created, job) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET state = excluded.state, job = excluded.job`,
      ),
      get: db.prepare<[string], Row>('SELECT job FROM ota_jobs WHERE id = ?'),
      list: db.prepare<[number], Row>('SELECT job FROM ota_jobs ORDER BY seq DESC LIMIT ?'),
      byDevice: db.prepare<[string, number], Row>(
        'SELECT job FROM ota_jobs WHERE device_id = ? ORDER BY seq DESC LIMIT ?',
      ),
      byRollout: db.prepare<[string, number], Row>(
        'SELECT job FROM ota_jobs WHERE rollout = ? ORDER BY seq DESC LIMIT ?',
      ),
      unfinished: db.prepare<[], Row>(
        `SELECT job FROM ota_jobs
           WHERE state IN ('queued', 'sending', 'rebooting', 'verifying') ORDER BY seq`,
      ),
    };
  }

  save(job: OtaJob): void {
    this.stmts.upsert.run(
      job.id,
      job.device,
      job.rollout ?? null,
      job.state,
      job.created,
      JSON.stringify(job),
    );
  }

  get(id: string): OtaJob | undefined {
    const r = this.stmts.get.get(id);
    return r ? parse(r) : undefined;
  }

  /** Newest first. */
  list(filter: { device?: string; rollout?: string; limit: number }): OtaJob[] {
    const rows =
      filter.device !== undefined
        ? this.stmts.byDevice.all(filter.device, filter.limit)
        : filter.rollout !== undefined
          ? this.stmts.byRollout.all(filter.rollout, filter.limit)
          : this.stmts.list.all(filter.limit);
    return rows.map(parse);
  }

  /** Jobs that had not ended when the hub stopped, oldest first. */
  unfinished(): OtaJob[] {
    return this.stmts.unfinished.all().map(parse);
  }
}

function parse(r: Row): OtaJob {
  return JSON.parse(r.job) as OtaJob;
}
