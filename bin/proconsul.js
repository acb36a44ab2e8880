#!/usr/bin/env node
// Launcher: runs the TypeScript CLI directly. Node 24 strips types by default; on Node 22/23
// re-run this file with --experimental-strip-types.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import module from 'node:module';

// Cache compiled (type-stripped) modules across runs: most of a cold CLI start is compiling.
module.enableCompileCache?.();

if (!process.features.typescript) {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', self, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
} else {
  await import('../src/cli/main.ts');
}
