import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { requireCjsExternals } from './scripts/require-cjs-externals';

// Main bundles five entries: the Electron entry, the headless CLI (also used when the Electron
// binary is missing), the flashing worker, the SQL worker and the notification log's thread,
// which must be files of their own to run off the hub's loop.
export default defineConfig({
  main: {
    // CommonJS packages are required, not imported: no export lexer at boot (issue 11, idle RSS;
    // scripts/require-cjs-externals.ts says why).
    plugins: [requireCjsExternals(resolve('.'))],
    build: {
      outDir: 'out/main',
      // typebox is 700 files of ES modules: resolving and loading them one by one costs the CLI
      // ~170-300 ms of its cold start (issue 11); bundled, it is one parse of what is used.
      externalizeDeps: { exclude: ['typebox'] },
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          cli: resolve('src/main/cli.ts'),
          'flash-worker': resolve('src/main/flasher/flash-worker.ts'),
          // The SQL API runs statements in processes of their own (src/main/data/sql-executor.ts).
          'sql-worker': resolve('src/main/data/sql-worker.ts'),
          // The notification log's writer while the log is busy (src/main/store/log-repo.ts).
          'log-worker': resolve('src/main/store/log-worker.ts'),
        },
        // V8 keeps every loaded module's source for lazy compilation, as a two-byte string when
        // it holds one character past Latin-1: one '…' doubled the hub chunk's 380 KB. ASCII
        // escapes and no JSDoc (the sources keep it) cut the idle hub's heap (issue 11, RESULTS).
        output: { charset: 'ascii', comments: { legal: true, annotation: true, jsdoc: false } },
      },
    },
  },
  // Sandboxed preloads cannot require() packages and must be CommonJS: bundle everything (the
  // bridge contract brings typebox along) into one .cjs file, which src/main/index.ts loads.
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  // The hub serves the built dashboard at `/` (and may serve it under another path later):
  // relative asset URLs keep it working wherever it is mounted. In `electron-vite dev` the page
  // comes from Vite's server, so API and notify calls are proxied to the hub on its default port.
  renderer: {
    root: 'src/renderer',
    base: './',
    plugins: [react()],
    server: {
      proxy: { '/api': { target: 'http://127.0.0.1:8009', ws: true } },
    },
    build: {
      outDir: 'out/renderer',
      minify: true,
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});
