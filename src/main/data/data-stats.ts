/**
 * Counters of the device data path (hub status `data`): rows stored, writes dropped by reason
 * (PROTOCOL.md 2: an id-less `DB.Store` that fails is "a counted, logged drop"), drains and the
 * spool lines they skipped.
 */
export class DataStats {
  rowsStored = 0;
  drains = 0;
  drainRows = 0;
  drainSkipped = 0;
  drainsInterrupted = 0;
  retentionDeleted = 0;
  readonly dropped = new Map<string, number>();

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  snapshot(): {
    rows_stored: number;
    dropped: Record<string, number>;
    drains: number;
    drain_rows: number;
    drain_skipped: number;
    drains_interrupted: number;
    retention_deleted: number;
  } {
    return {
      rows_stored: this.rowsStored,
      dropped: Object.fromEntries(this.dropped),
      drains: this.drains,
      drain_rows: this.drainRows,
      drain_skipped: this.drainSkipped,
      drains_interrupted: this.drainsInterrupted,
      retention_deleted: this.retentionDeleted,
    };
  }
}
