/**
 * Where a CLI command keeps its data when no --data-dir is given: the platform's per-user app data
 * folder (~/.local/share/fleetbench on Linux, ~/Library/Application Support/fleetbench on macOS,
 * %LOCALAPPDATA%\fleetbench\Data on Windows), unless FLEETBENCH_DATA_DIR says otherwise.
 */
import envPaths from 'env-paths';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['FLEETBENCH_DATA_DIR'] || envPaths('fleetbench', { suffix: '' }).data;
}
