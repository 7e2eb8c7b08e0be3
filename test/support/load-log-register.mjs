// `node --import ./load-log-register.mjs ...`: installs load-log-hooks.mjs before anything loads,
// and logs what CommonJS `require` loads too (the built main bundle requires its CommonJS
// packages: scripts/require-cjs-externals.ts), one file URL a line like the hooks.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

register(new URL('./load-log-hooks.mjs', import.meta.url));

const log = process.env.FLEETBENCH_LOAD_LOG;
if (log) {
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const exported = load.call(this, request, parent, isMain);
    try {
      const file = Module._resolveFilename(request, parent, isMain);
      appendFileSync(log, `${file.startsWith('/') ? pathToFileURL(file).href : file}\n`);
    } catch {
      // a built-in module
    }
    return exported;
  };
}
