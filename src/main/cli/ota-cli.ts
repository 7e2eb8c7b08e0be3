/**
 * `fleetbench ota <device> <file|fw-id>` (issue 8, interfaces): updates one device through a
 * running hub's REST API (PROTOCOL.md 9): a file is uploaded as multipart (it enters the hub's
 * firmware library), anything else names a library firmware. The job is started with `wait=0`
 * and followed by polling `GET /api/v2/ota/:job`, with the flasher's progress bar.
 *
 * Exit codes: 0 done, 1 failed (or the hub refused), 2 usage, 3 rolled back, 4 cancelled.
 * Ctrl-C cancels a job that is still queued or sending.
 */
import { existsSync, openAsBlob, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import Type from 'typebox';
import { OTA_JOB_STATES, isFinalOtaState, type OtaJob } from '../../shared/ota';
import { isValid } from '../validate';
import { CliError } from './cli-errors';
import { progressBar } from './flash-progress';
import {
  addHubOptions,
  hubAt,
  hubRequest as request,
  resolveHub,
  type HubCliOptions,
} from './hub-client';

export const OTA_EXIT = { done: 0, failed: 1, usage: 2, rolled_back: 3, cancelled: 4 } as const;
export const OTA_POLL_MS = 250;

const Job = Type.Object({
  id: Type.String(),
  device: Type.String(),
  state: Type.String(),
  bytes: Type.Number(),
  total: Type.Number(),
});

interface Out {
  out(s: string): void;
  err(s: string): void;
  tty: boolean;
}

function asJob(v: unknown): OtaJob {
  const states: readonly string[] = OTA_JOB_STATES;
  if (!isValid(Job, v) || !states.includes(v.state)) {
    throw new CliError('the hub returned an unexpected OTA job object');
  }
  // The fields this command reads are checked above; the rest is printed as the hub sent it.
  return v as unknown as OtaJob;
}

export interface OtaCliOptions {
  hub: string;
  key: string;
  force?: boolean;
  commit?: boolean;
}

/** Starts the job, follows it to its end, and returns the exit code. */
export async function runOta(
  device: string,
  target: string,
  o: OtaCliOptions,
  io: Out,
  signal?: AbortSignal,
): Promise<number> {
  const hub = hubAt(o.hub, o.key);
  const query = new URLSearchParams({ wait: '0' });
  if (o.force) query.set('force', '1');
  if (o.commit) query.set('commit', '1');
  const path = `/api/v2/devices/${encodeURIComponent(device)}/ota?${query}`;
  let job: OtaJob;
  if (existsSync(target) && statSync(target).isFile()) {
    const form = new FormData();
    // openAsBlob reads the file from disk as the request streams it.
    form.append('file', await openAsBlob(target), basename(target));
    io.err(`uploading ${basename(target)} to ${device}\n`);
    job = asJob(await request(hub, 'POST', path, form));
  } else {
    job = asJob(await request(hub, 'POST', path, JSON.stringify({ firmware: target }), true));
  }
  io.err(`job ${job.id}: ${job.state}\n`);
  let lastState = job.state;
  let lastDecile = -1;
  let cancelSent = false;
  while (!isFinalOtaState(job.state)) {
    await new Promise((r) => setTimeout(r, OTA_POLL_MS));
    if (signal?.aborted && !cancelSent) {
      cancelSent = true;
      await request(hub, 'DELETE', `/api/v2/ota/${job.id}`).catch((err: unknown) => {
        io.err(`\ncould not cancel: ${(err as Error).message}\n`);
      });
    }
    job = asJob(await request(hub, 'GET', `/api/v2/ota/${job.id}`));
    if (job.state === 'sending' && job.total > 0) {
      if (io.tty) {
        io.err(`\r${progressBar({ state: 'writing', bytes: job.bytes, total: job.total })}`);
      } else {
        const decile = Math.floor((job.bytes / job.total) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          io.err(`  ${decile * 10}%  (${job.bytes}/${job.total} bytes)\n`);
        }
      }
    }
    if (job.state !== lastState) {
      if (io.tty && lastState === 'sending') io.err('\n');
      io.err(`${job.state}\n`);
      lastState = job.state;
    }
  }
  io.out(JSON.stringify(job, null, 2) + '\n');
  if (job.state === 'done') {
    if (job.uncommitted) {
      io.err(
        `${device} runs ${job.to_fw} uncommitted: POST /api/v2/devices/${device}/ota/commit keeps it\n`,
      );
    }
    return OTA_EXIT.done;
  }
  if (job.error) io.err(`${job.state}: ${job.error.message} (${job.error.code})\n`);
  if (job.state === 'rolled_back') return OTA_EXIT.rolled_back;
  if (job.state === 'cancelled') return OTA_EXIT.cancelled;
  return OTA_EXIT.failed;
}

export function registerOtaCommand(program: Command): void {
  addHubOptions(
    program
      .command('ota <device> <file-or-firmware-id>')
      .description(
        'update one device over the air through a running hub; exit 0 done, 1 failed, 3 rolled back, 4 cancelled',
      ),
  )
    .option('--force', 'send despite a platform mismatch or a file that is no firmware image')
    .option('--commit', 'Mongoose OS: commit the new image once it is verified')
    .action(
      async (
        device: string,
        target: string,
        o: HubCliOptions & { force?: boolean; commit?: boolean },
      ) => {
        const hub = resolveHub(o);
        const abort = new AbortController();
        const onSigint = (): void => abort.abort();
        process.once('SIGINT', onSigint);
        try {
          const code = await runOta(
            device,
            target,
            {
              hub: hub.base,
              key: hub.key,
              ...(o.force && { force: true }),
              ...(o.commit && { commit: true }),
            },
            {
              out: (s) => void process.stdout.write(s),
              err: (s) => void process.stderr.write(s),
              tty: process.stderr.isTTY === true,
            },
            abort.signal,
          );
          if (code !== 0) throw new CliError(`OTA of ${device} did not succeed`, code);
        } finally {
          process.off('SIGINT', onSigint);
        }
      },
    );
}
