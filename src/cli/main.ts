// Process entry for bin/proconsul.js: wires the real stdio and environment into runCli.

import { runCli } from './registry.ts';
import type { CliIO } from './io.ts';
import { openBrowser } from './browser.ts';

const io: CliIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stdin: process.stdin,
  env: process.env,
  openBrowser,
  setV8Flag: (flag) => process.getBuiltinModule('node:v8').setFlagsFromString(flag),
};

// exitCode rather than exit() so piped output is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2), io);
