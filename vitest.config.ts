import { defineConfig } from 'vitest/config';

// Unit, integration and e2e suites run in one invocation; each file gets its own process
// (forks) because several suites open native handles (SQLite, serial ports, Chromium).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
