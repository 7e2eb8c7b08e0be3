/**
 * A build plugin for the main-process bundle (electron.vite.config.ts): external CommonJS packages
 * are loaded with `require` (through `createRequire(import.meta.url)`) instead of an ESM `import`.
 *
 * Why (issue 11, idle RSS): Node runs its CommonJS export lexer (cjs-module-lexer) over every
 * CommonJS file an ES module imports, to find its named exports. Over fastify, ws, dns-packet and
 * the rest, the lexer's `parseSource` became hot enough at boot for V8 to optimize it with
 * TurboFan, several times, on V8's worker threads: 7-12 MB of compiler zone memory at peak, which
 * glibc's per-thread arenas kept after it was freed, plus the optimizing compiler's own pages of
 * the node binary. `require` needs no lexer: the CommonJS module object is the value.
 *
 * Only the import lines at the top of each chunk are rewritten, one line for one line; packages
 * that resolve to an ES module under `require` (env-paths, esptool-js) and Electron's own module
 * keep their `import`. A default or namespace import becomes `module.exports` (what Node's ESM
 * import of a CommonJS file gives as default; our code uses namespaces only for their members),
 * named imports become its properties.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What the generated code calls `require`; unlikely to meet a name of the bundle. */
const REQUIRE = '__fbRequire';

/** The package name of a bare specifier: `@scope/name/sub` -> `@scope/name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isBare(specifier: string): boolean {
  return !/^(\.|\/|[a-z]+:)/i.test(specifier) && !builtinModules.includes(specifier);
}

/** True when `require(specifier)` from `root` loads a CommonJS file. */
export function loadsAsCommonJs(specifier: string, root: string): boolean {
  let file: string;
  try {
    file = createRequire(join(root, 'package.json')).resolve(specifier);
  } catch {
    return false;
  }
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  // The nearest package.json decides what a .js file is.
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type !== 'module';
    }
    if (dirname(dir) === dir) return true;
  }
}

/** `a as b, c` -> `a: b, c` (an import list as a destructuring pattern). */
function pattern(list: string): string {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => s.replace(/^(\S+)\s+as\s+(\S+)$/, '$1: $2'))
    .join(', ');
}

const IMPORT_LINE =
  /^import (?:(?<def>[\w$]+)(?:, )?)?(?:\* as (?<ns>[\w$]+)|\{ (?<named>[^}]*) \})? from "(?<spec>[^"]+)";$|^import "(?<bare>[^"]+)";$/;

/**
 * Rewrites the chunk's static import lines of the packages `useRequire` accepts; returns null
 * when nothing changed. Line numbers stay as they were.
 */
export function rewriteCjsImports(
  code: string,
  useRequire: (specifier: string) => boolean,
): string | null {
  const lines = code.split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const m = IMPORT_LINE.exec(lines[i] ?? '');
    if (!m?.groups) continue;
    const { def, ns, named, spec, bare } = m.groups;
    const specifier = spec ?? bare;
    if (specifier === undefined || !isBare(specifier) || !useRequire(specifier)) continue;
    const req = `${REQUIRE}(${JSON.stringify(specifier)})`;
    const decls: string[] = [];
    const whole = def ?? ns;
    if (whole !== undefined) {
      decls.push(`const ${whole} = ${req};`);
      if (def !== undefined && ns !== undefined) decls.push(`const ${ns} = ${def};`);
      if (named !== undefined) decls.push(`const { ${pattern(named)} } = ${whole};`);
    } else if (named !== undefined) {
      decls.push(`const { ${pattern(named)} } = ${req};`);
    } else {
      decls.push(`${req};`);
    }
    lines[i] = decls.join(' ');
    changed = true;
  }
  if (!changed) return null;
  lines[0] =
    `import { createRequire as __fbCreateRequire } from "node:module"; ` +
    `const ${REQUIRE} = __fbCreateRequire(import.meta.url); ${lines[0] ?? ''}`;
  return lines.join('\n');
}

/** The plugin: every external CommonJS package of `root` except `keep` is required. */
export function requireCjsExternals(root: string, keep: readonly string[] = ['electron']) {
  const verdicts = new Map<string, boolean>();
  const useRequire = (specifier: string): boolean => {
    if (keep.includes(packageNameOf(specifier))) return false;
    let v = verdicts.get(specifier);
    if (v === undefined) {
      v = loadsAsCommonJs(specifier, root);
      verdicts.set(specifier, v);
    }
    return v;
  };
  return {
    name: 'fleetbench:require-cjs-externals',
    renderChunk(code: string): { code: string; map: null } | null {
      const out = rewriteCjsImports(code, useRequire);
      return out === null ? null : { code: out, map: null };
    },
  };
}
