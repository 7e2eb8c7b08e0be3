// Module hooks that append every URL the process resolves to the file named by
// FLEETBENCH_LOAD_LOG, one a line: lets a test see which modules a command loaded without timing
// anything. Registered by load-log-register.mjs (`node --import`).
import { appendFileSync } from 'node:fs';

const log = process.env.FLEETBENCH_LOAD_LOG;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (log) appendFileSync(log, `${resolved.url}\n`);
  return resolved;
}
