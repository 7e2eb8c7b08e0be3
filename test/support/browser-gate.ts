/**
 * Whether the Chromium end-to-end tests run, skip or fail the run: a pure decision from the
 * environment and whether the browser exists, so CI can never pass with the browser tests skipped
 * (issue 7 item 24). `.ci/run` runs with `CI=true`; locally a missing browser only skips, loudly.
 */

/** Where the e2e tests look for Chromium unless FLEETBENCH_CHROMIUM names another path. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export type BrowserGate =
  | { action: 'run'; path: string }
  | { action: 'skip'; path: string; message: string }
  | { action: 'fail'; path: string; message: string };

/**
 * CI is "set" the way CI services and ci-info read it: present and not an explicit no
 * (`CI=false` or `CI=0` is a developer opting out, not a CI machine).
 */
export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.CI;
  if (v === undefined) return false;
  const t = v.trim().toLowerCase();
  return t !== '' && t !== '0' && t !== 'false';
}

/** The browser path the tests use: FLEETBENCH_CHROMIUM when set and non-empty, else Debian's. */
export function chromiumPath(env: Readonly<Record<string, string | undefined>>): string {
  const p = env.FLEETBENCH_CHROMIUM?.trim();
  return p ? p : DEFAULT_CHROMIUM;
}

/** The decision: facts in (environment, whether the browser exists at `path`), verdict out. */
export function browserGate(
  env: Readonly<Record<string, string | undefined>>,
  exists: (path: string) => boolean,
): BrowserGate {
  const path = chromiumPath(env);
  if (exists(path)) return { action: 'run', path };
  const how =
    'install it with `sudo apt-get install chromium` (scripts/test-all.sh does this), ' +
    'or point FLEETBENCH_CHROMIUM at a Chromium binary';
  if (isCi(env)) {
    return {
      action: 'fail',
      path,
      message: `Chromium is missing at ${path} and CI is set (CI=${env.CI ?? ''}), so the browser tests cannot be skipped: ${how}.`,
    };
  }
  return {
    action: 'skip',
    path,
    message: `Chromium is missing at ${path}: the browser tests are SKIPPED (they would fail under CI); ${how}.`,
  };
}
