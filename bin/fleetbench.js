#!/usr/bin/env node
// The `fleetbench` command. Runs the built CLI (out/main/cli.js, made by `npm run build`); in a
// source checkout without a build it runs the TypeScript sources through tsx instead.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
let cli;
if (existsSync(built) && !process.env.FLEETBENCH_FROM_SOURCE) {
  cli = await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/main/cli.ts', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv);
