/**
 * CLI failures are one clear line and a non-zero exit (issue 2, CLI).
 */
import { HubError } from '../../shared/errors';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function describeError(err: unknown): string {
  if (err instanceof HubError) return `${err.message} (code ${err.code})`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      return `${err.message}: the port is in use; pick another with --port`;
    if (code === 'EACCES') return `${err.message}: permission denied`;
    if (code === 'SQLITE_BUSY') return 'the data dir is locked by another process; try again';
    return err.message;
  }
  return String(err);
}
