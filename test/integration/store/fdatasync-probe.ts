/**
 * Wraps node's own `fs.fdatasync` (not our code) so a test of a whole hub can see and steer the
 * WAL flush of group commit: count calls, hold their completion back, or report an I/O error after
 * the real flush ran. Assigning to node's CommonJS `fs` and calling syncBuiltinESMExports()
 * rebinds `import { fdatasync } from 'node:fs'` everywhere.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

type FlushCallback = (err: NodeJS.ErrnoException | null) => void;

const fsCjs = createRequire(import.meta.url)('node:fs') as {
  fdatasync: (fd: number, cb: FlushCallback) => void;
};

export interface FdatasyncProbe {
  calls: number;
  /** While true, a finished fdatasync does not report back until release(). */
  hold: boolean;
  /** Every later fdatasync reports this error (after really flushing), while set. */
  failWith: NodeJS.ErrnoException | null;
  held(): number;
  release(): void;
  restore(): void;
}

export function probeFdatasync(): FdatasyncProbe {
  const real = fsCjs.fdatasync;
  const waiting: (() => void)[] = [];
  const probe: FdatasyncProbe = {
    calls: 0,
    hold: false,
    failWith: null,
    held: () => waiting.length,
    release: () => {
      for (const finish of waiting.splice(0)) finish();
    },
    restore: () => {
      probe.hold = false;
      probe.release();
      fsCjs.fdatasync = real;
      syncBuiltinESMExports();
    },
  };
  fsCjs.fdatasync = (fd: number, cb: FlushCallback): void => {
    probe.calls++;
    const fail = probe.failWith;
    real(fd, (err) => {
      const finish = (): void => cb(fail ?? err);
      if (probe.hold) waiting.push(finish);
      else finish();
    });
  };
  syncBuiltinESMExports();
  return probe;
}

export const eio = (): NodeJS.ErrnoException =>
  Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5 });
