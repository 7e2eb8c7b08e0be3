/**
 * Staged rollouts and their devices (migration 4; PROTOCOL.md 9), written synchronously at every
 * change of state (never per progress tick) so a restarted hub resumes each rollout where it
 * stopped. Rows hold the engine's objects as JSON; the columns are what queries filter on.
 */
import type { Db } from './database';
import type { EngineDevice, EngineRollout } from '../ota/rollout-engine';

export interface StoredRollout {
  rollout: EngineRollout;
  devices: EngineDevice[];
}

export class RolloutsRepo {
  private readonly stmts;
  private readonly insertAll;

  constructor(private readonly db: Db) {
    this.stmts = {
      upsert: db.prepare<[string, string, number, string]>(
        `INSERT INTO rollouts (id, state, created, rollout) VALUES (?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET state = excluded.state, rollout = excluded.rollout`,
      ),
      saveDevice: db.prepare<[string, string, number, string]>(
        `INSERT INTO rollout_devices (rollout_id, device_id, seq, device) VALUES (?, ?, ?, ?)
           ON CONFLICT(rollout_id, device_id) DO UPDATE SET device = excluded.device`,
      ),
      all: db.prepare<[], { rollout: string }>('SELECT rollout FROM rollouts ORDER BY seq'),
      devices: db.prepare<[string], { device: string }>(
        'SELECT device FROM rollout_devices WHERE rollout_id = ? ORDER BY seq',
      ),
    };
    this.insertAll = db.transaction((r: EngineRollout, devices: readonly EngineDevice[]) => {
      this.saveRollout(r);
      devices.forEach((d, i) => this.stmts.saveDevice.run(r.id, d.id, i, JSON.stringify(d)));
    });
  }

  /** A new rollout with all its devices, in one transaction. */
  create(r: EngineRollout, devices: readonly EngineDevice[]): void {
    this.insertAll(r, devices);
  }

  saveRollout(r: EngineRollout): void {
    this.stmts.upsert.run(r.id, r.state, r.created, JSON.stringify(r));
  }

  /** `seq` orders the devices; a device added later (a dynamic join) goes last. */
  saveDevice(rolloutId: string, d: EngineDevice, seq: number): void {
    this.stmts.saveDevice.run(rolloutId, d.id, seq, JSON.stringify(d));
  }

  /** Every rollout with its devices, oldest first. */
  loadAll(): StoredRollout[] {
    return this.stmts.all.all().map((row) => {
      const rollout = JSON.parse(row.rollout) as EngineRollout;
      const devices = this.stmts.devices
        .all(rollout.id)
        .map((d) => JSON.parse(d.device) as EngineDevice);
      return { rollout, devices };
    });
  }
}
