/**
 * A heap snapshot of a child process started with `--heapsnapshot-signal=SIGUSR2
 * --diagnostic-dir DIR`: sends the signal and waits until the new `.heapsnapshot` file stops
 * growing (V8 writes it synchronously in the child; we only see its size change).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export async function takeHeapSnapshot(
  pid: number,
  dir: string,
  timeoutMs = 300_000,
): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file !== undefined) {
      const size = statSync(join(dir, file)).size;
      if (size > 0 && size === last) return join(dir, file);
      last = size;
    }
    if (Date.now() > deadline) throw new Error(`no heap snapshot of ${pid} in ${dir}`);
  }
}
