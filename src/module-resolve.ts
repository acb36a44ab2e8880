// Start-up fast path for the ES loader: Proconsul's own relative `.ts` imports resolved by URL
// arithmetic instead of Node's default resolver, which stats and realpaths the target and looks up
// its package scope for each of the ≈1,300 import edges an agent start resolves (≈60 µs each here,
// ≈80 ms of CPU per `agent -dev` start: bench/RESULTS.md, 2026-11-26 17:50 UTC). Registered by the
// launcher (bin/proconsul.js) only; tests and embedders keep Node's resolver. Built into dist/ (the
// installed package), the same for its `.js` modules.
import { statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// This file's folder as Node's own resolver reached it (real path, unless --preserve-symlinks):
// only imports between files under it are ours to resolve, so every URL the fast path makes is one
// Node would make too (src/ holds no symlinks), whether the launcher was reached through a symlink
// (npm link, a global bin, --preserve-symlinks-main) or not, and no other code's imports change.
const SRC = new URL('./', import.meta.url).href;
/** Our modules' extension where this file runs: `.ts` in a checkout's src/, `.js` in the built dist/. */
const EXT = import.meta.url.endsWith('.js') ? '.js' : '.ts';

/**
 * The URL a relative `ext` specifier names from a module under `root` (src/) when it is under it too,
 * or undefined for every other specifier (bare, `node:`, other extensions, with a query or hash) and parent,
 * which Node's resolver keeps. The package's `"type": "module"` makes every such file an ES module.
 */
export function fastResolve(specifier: string, parentURL: string | undefined, root = SRC, ext = EXT): string | undefined {
  if (parentURL === undefined || !parentURL.startsWith(root)) return undefined;
  if (!(specifier.startsWith('./') || specifier.startsWith('../')) || !specifier.endsWith(ext)) return undefined;
  if (/[%\\?#]/.test(specifier)) return undefined; // escapes, a query or hash: Node's rules
  const url = new URL(specifier, parentURL).href;
  return url.startsWith(root) ? url : undefined;
}

/**
 * Registers fastResolve for the files under `root` in front of Node's resolver (Node ≥ 22.15; older
 * Nodes keep theirs). Each module's file is stat'ed once, on its first import (not on every import
 * edge, nor realpath'ed): a missing file or a directory goes to Node's resolver, which throws its
 * own error (ERR_MODULE_NOT_FOUND naming the importer, MODULE_NOT_FOUND with the require stack).
 */
export function registerFastResolve(root = SRC, ext = EXT): void {
  const files = new Set<string>();
  const format = ext === '.ts' ? 'module-typescript' : 'module';
  module.registerHooks?.({
    resolve(specifier, context, next) {
      const url = fastResolve(specifier, context.parentURL, root, ext);
      if (url === undefined) return next(specifier, context);
      if (!files.has(url)) {
        if (!statSync(fileURLToPath(url), { throwIfNoEntry: false })?.isFile()) return next(specifier, context);
        files.add(url);
      }
      return { url, format, shortCircuit: true };
    },
  });
}
