import { defineConfig } from 'vitest/config';

// Unit, integration and e2e suites run in one invocation; each file gets its own process
// (forks) because several suites open native handles (SQLite, serial ports, Chromium).
//
// File parallelism stays at vitest's default of (cores - 1) workers: one file at a time on the
// 2-core CI machine (`.ci/run` takes about 6 of its 15 minutes). Several suites assert wall-clock
// bounds (an OTA must not slow other calls past 80 ms, reconnect back-off, request timeouts,
// event-loop blocking) that a second busy worker on 2 cores would make flaky; where there are
// cores to spare the default already runs more files at once (`--maxWorkers=N` to choose).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
