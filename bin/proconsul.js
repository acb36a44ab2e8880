#!/usr/bin/env node
// Launcher: in a checkout runs the TypeScript CLI directly (Node 24 strips types by default; on
// Node 22/23 re-run this file with --experimental-strip-types); in an installed package, whose src/
// is not shipped (Node strips no types under node_modules), runs dist/, built by `npm run build`.
import { existsSync } from 'node:fs';
import module from 'node:module';
import v8 from 'node:v8';

// `agent` holds V8's young generation at its initial size (2 MiB new space). By default V8 grows
// it to 64 MiB while many objects survive (start-up, a registration burst) and shrinks it only
// after a while; scavenges of the grown space stop the event loop for 3–7 ms, and at tens of
// thousands of DNS queries a second those pauses made the latency tail. Held small: ≈0.5 ms
// scavenges, about 40 a second at 45k qps, the same agent CPU per UDP query (14.8–15.8 vs 14.8–15.4 µs at
// 30k qps) and closed-loop DNS throughput still 0.52–0.89 of unbound; paced p99 at half unbound's
// qps 4.8–34 ms vs 17–136 ms (shared 2-core VM): bench/RESULTS.md, 2026-11-25 19:53 UTC. A larger
// fixed size (2–16 MiB semi-space) saves registration-burst CPU (2 MiB: ≈5 % of the main thread's) but
// each scavenge grows with it (DNS pause p50 0.55 → 1.08 ms at 2 MiB): RESULTS, 2026-11-27 03:51 UTC. Set here,
// before the CLI's modules load (loading them grows the young generation and the flag keeps the
// size it finds; as a node command-line flag it has no effect on Node 24), only for `agent`, and
// not when the user gave a semi-space flag. Processes embedding agents keep V8's defaults.
/**
 * Built-in modules every `agent` start loads (net listen loads cluster; pino assert and worker_threads).
 * Not node:sqlite: only a data directory's store loads it, and on Node 22 loading it prints an
 * ExperimentalWarning (its code is small: ≈0.3 ms more to compile after the flag).
 */
const AGENT_BUILTINS = ['node:crypto', 'node:fs/promises', 'node:worker_threads', 'node:tls', 'node:assert', 'node:http', 'node:https', 'node:dns', 'node:cluster', 'node:perf_hooks', 'node:dns/promises'];
/** Lazily loaded parts of built-ins an `agent` start reaches (module, property whose getter loads it). */
const AGENT_LAZY_BUILTINS = [['node:net', 'BlockList'], ['node:fs', 'ReadStream'], ['node:fs', 'Utf8Stream'], ['node:util', 'parseArgs'], ['node:util', 'diff']];
const fromSource = existsSync(new URL('../src/cli/main.ts', import.meta.url));
/**
 * Node 22/23 without type stripping on: this file re-runs itself with it (not needed for dist/).
 * Not again in the re-run: Node 22.6–22.9 strip types under the flag but report no feature.
 */
const reexec = fromSource && !process.features.typescript && !process.execArgv.includes('--experimental-strip-types');
const semiSpaceGiven = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((f) => f.includes('semi-space'));
if (process.argv[2] === 'agent' && !semiSpaceGiven) {
  // Any V8 flag set at run time changes V8's flag hash, and Node's built-in modules carry code
  // caches made under the default flags: each one loaded after this point is compiled from
  // source (≈2× the CPU). So the agent's big built-ins are loaded first. The young generation
  // still ends at 2 MiB as without them (V8's own first step), and the flag then holds it there.
  // (Not when this process only re-runs this file.)
  if (!reexec) {
    for (const m of AGENT_BUILTINS) process.getBuiltinModule(m);
    for (const [m, p] of AGENT_LAZY_BUILTINS) void process.getBuiltinModule(m)[p];
    void globalThis.crypto; // WebCrypto, which node:crypto's ES facade and the CA root load anyway
    // Node's IPv6 pattern (its first use is in every listen() on a host: net's
    // filterOnlyValidAddress) costs V8 9–25 ms to compile to bytecode with regexp optimization on,
    // ≈1 ms with it off. Only that first, interpreted form is made here; V8 compiles the native code
    // on its next use with the optimization back on, so matching afterwards is as fast as without this.
    v8.setFlagsFromString('--no-regexp-optimization');
    process.getBuiltinModule('node:net').isIPv6('::');
    v8.setFlagsFromString('--regexp-optimization');
  }
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

// Cache compiled (type-stripped) modules across runs: most of a cold CLI start is compiling.
// Enabled after the V8 flags above: the cache directory is named after V8's flag hash when it is
// enabled, and V8 rejects code cached under another flag set. Enabled first, `agent` and every
// other command shared one directory, so each rejected and rewrote the modules they have in common
// (src/cli/*, ≈30 files) whenever the other had run last; now `agent` keeps its own.
module.enableCompileCache?.();

if (reexec) {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 6)) {
    // Such a Node knows no --experimental-strip-types: it would only say "bad option".
    process.stderr.write(`proconsul: Node.js ${process.version} cannot run Proconsul's TypeScript sources: it needs Node.js 22.13 or later\n`);
    process.exit(1);
  }
  const self = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url);
  // The user's node flags first (a heap limit, --import, --inspect): the re-run is the real process.
  const args = [...process.execArgv, '--experimental-strip-types', '--disable-warning=ExperimentalWarning', self, ...process.argv.slice(2)];
  // In place where Node can (22.15+, 23.11+; not Windows): the agent keeps the pid its starter,
  // pid file and supervisor know. As a child it missed a SIGTERM sent to that pid (this process
  // died of it, and the agent went on holding its ports).
  if (typeof process.execve === 'function' && process.platform !== 'win32') process.execve(process.execPath, [process.execPath, ...args], process.env);
  runAsChild(args);
} else if (fromSource) {
  // Our own relative imports resolved without Node's stat/realpath/package-scope walk (≈80 ms of an
  // agent start; dist/ too: without it an installed start took ≈30 ms more CPU than a checkout's).
  (await import('../src/module-resolve.ts')).registerFastResolve();
  await import('../src/cli/main.ts');
} else {
  (await import('../dist/module-resolve.js')).registerFastResolve();
  await import('../dist/cli/main.js');
}

/**
 * The re-run as a child, where Node has no process.execve: signals sent to this pid (a supervisor's
 * SIGTERM, SIGHUP to reload) reach it, and this process ends as it did (exit code, or its signal).
 */
function runAsChild(args) {
  // Loaded only here: child_process is no part of a normal start.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const pass = (signal) => { if (child.exitCode === null && child.signalCode === null) child.kill(signal); };
  process.on('SIGTERM', pass);
  // Windows has no SIGHUP to send (kill throws): its console closing ends the child itself.
  if (process.platform !== 'win32') process.on('SIGHUP', pass);
  // A terminal's ^C reaches the child itself (the whole foreground process group gets it): passed
  // on as well, the agent would take it for a second interrupt and stop without leaving. Without
  // a terminal (a supervisor, kill -INT) it is passed on.
  const tty = process.getBuiltinModule('node:tty');
  process.on('SIGINT', () => { if (![0, 1, 2].some((fd) => tty.isatty(fd))) pass('SIGINT'); });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.exitCode = 128 + (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0);
    process.kill(process.pid, signal);
  });
}
