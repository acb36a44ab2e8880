// Start-up fast path for the ES loader: Proconsul's own relative `.ts` imports resolved by URL
// arithmetic instead of Node's default resolver, which stats and realpaths the target and looks up
// its package scope for each of the ≈1,300 import edges an agent start resolves (≈60 µs each here,
// ≈80 ms of CPU per `agent -dev` start: bench/RESULTS.md, 2026-11-26 17:50 UTC). Registered by the
// launcher (bin/proconsul.js) only; tests and embedders keep Node's resolver.
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// This file's folder as Node's own resolver reached it (real path, unless --preserve-symlinks):
// only imports between files under it are ours to resolve, so every URL the fast path makes is one
// Node would make too (src/ holds no symlinks), whether the launcher was reached through a symlink
// (npm link, a global bin, --preserve-symlinks-main) or not, and no other code's imports change.
const SRC = new URL('./', import.meta.url).href;

/**
 * The URL a relative `.ts` specifier names from a module under `root` (src/) when it is under it too,
 * or undefined for every other specifier (bare, `node:`, `.js`, with a query or hash) and parent,
 * which Node's resolver keeps. The package's `"type": "module"` makes every such file an ES module.
 */
export function fastResolve(specifier: string, parentURL: string | undefined, root = SRC): string | undefined {
  if (parentURL === undefined || !parentURL.startsWith(root)) return undefined;
  if (!(specifier.startsWith('./') || specifier.startsWith('../')) || !specifier.endsWith('.ts')) return undefined;
  if (/[%\\?#]/.test(specifier)) return undefined; // escapes, a query or hash: Node's rules
  const url = new URL(specifier, parentURL).href;
  return url.startsWith(root) ? url : undefined;
}

/**
 * Registers fastResolve for the files under `root` in front of Node's resolver (Node ≥ 22.15; older
 * Nodes keep theirs). The fast path does not stat, so a missing file is found when it is loaded; the
 * load hook then throws what Node's resolver would have: ERR_MODULE_NOT_FOUND naming the importer
 * (MODULE_NOT_FOUND with the require stack for require()), not the bare ENOENT of the read.
 */
export function registerFastResolve(root = SRC): void {
  const importers = new Map<string, { specifier: string; parentURL: string }>();
  module.registerHooks?.({
    resolve(specifier, context, next) {
      const url = fastResolve(specifier, context.parentURL, root);
      if (url === undefined) return next(specifier, context);
      if (!importers.has(url)) importers.set(url, { specifier, parentURL: context.parentURL! });
      return { url, format: 'module-typescript', shortCircuit: true };
    },
    load(url, context, next) {
      try {
        return next(url, context);
      } catch (err) {
        const from = importers.get(url);
        const code = (err as NodeJS.ErrnoException).code;
        if (from === undefined || (code !== 'ENOENT' && code !== 'ENOTDIR')) throw err;
        throw notFound(url, from, context.conditions?.includes('require') ?? false);
      }
    },
  });
}

/** Node's resolver error for a module file that is not there, as import (or require, `required`) throws it. */
function notFound(url: string, from: { specifier: string; parentURL: string }, required: boolean): Error {
  const parent = fileURLToPath(from.parentURL);
  if (required) {
    const err = new Error(`Cannot find module '${from.specifier}'\nRequire stack:\n- ${parent}`);
    return Object.assign(err, { code: 'MODULE_NOT_FOUND', requireStack: [parent] });
  }
  return Object.assign(new Error(`Cannot find module '${fileURLToPath(url)}' imported from ${parent}`), { code: 'ERR_MODULE_NOT_FOUND', url });
}
