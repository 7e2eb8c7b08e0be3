/**
 * Last-resort cleanup: if a benchmark process ends early (an error, a time bound, Ctrl-C), the
 * child processes and temp dirs it made must not outlive it on a machine others share. Each
 * resource registers a synchronous undo and unregisters it once it cleaned up normally.
 */

const undos = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const undo of [...undos].reverse()) {
    try {
      undo();
    } catch {
      // best effort: keep undoing the rest
    }
  }
  undos.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runAll();
      process.exit(130);
    });
  }
}

/** Registers `undo` to run if the process exits before the returned function is called. */
export function guardOnExit(undo: () => void): () => void {
  install();
  undos.add(undo);
  return () => void undos.delete(undo);
}
