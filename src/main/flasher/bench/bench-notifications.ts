/**
 * Bench progress as notifications (PROTOCOL.md 7 "flash.*"; issue: "Progress per port"):
 *
 *   flash.bench.state  {bench, port, job, state}   every transition of a port's job
 *   flash.bench.row    {bench, row}                a row's outcome changed
 *   flash.bench.done   {bench, summary, rows}      every row has an outcome (again after a retry)
 *
 * Byte progress is already `flash.progress` per job (job-notifications.ts); the row carries the
 * job id to match them.
 */
import type { Json } from '../../../shared/types';
import type { Publisher } from '../jobs/job-notifications';
import type { BenchRow, BenchRun, BenchSnapshot } from './bench-run';
import type { FlashState } from '../../../shared/flash-state';

export function mirrorBench(run: BenchRun, bus: Publisher): () => void {
  const last = new Map<string, string>();
  const onState = (row: BenchRow, state: FlashState): void => {
    const key = `${row.job ?? ''}`;
    if (last.get(key) === state.state && state.state !== 'provisioning') return;
    last.set(key, state.state);
    bus.publish({
      name: 'flash.bench.state',
      id: '',
      data: { bench: run.id, port: row.port, job: row.job ?? null, state } as unknown as Json,
    });
  };
  const onRow = (row: BenchRow): void =>
    bus.publish({
      name: 'flash.bench.row',
      id: '',
      data: { bench: run.id, row } as unknown as Json,
    });
  const onDone = (s: BenchSnapshot): void =>
    bus.publish({
      name: 'flash.bench.done',
      id: '',
      data: { bench: run.id, summary: s.summary, rows: s.rows } as unknown as Json,
    });
  run.on('state', onState);
  run.on('row', onRow);
  run.on('done', onDone);
  return () => {
    run.off('state', onState);
    run.off('row', onRow);
    run.off('done', onDone);
  };
}
