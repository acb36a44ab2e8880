// A `snapshot agent` process for tests that need a lock session TTL other than the API's 15s
// (e.g. to see the lock move after kill -9 in seconds): argv[2] is the TTL (a Go duration), the
// rest are the command's arguments. Otherwise as `proconsul snapshot agent`.
import { runSnapshotAgent } from '../../src/cli/snapshot-agent.ts';
import type { CliIO } from '../../src/cli/io.ts';

const io: CliIO = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stdin: process.stdin,
  env: process.env,
};
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.exitCode = await runSnapshotAgent(process.argv.slice(3), io, stop.signal, { lockSessionTTL: process.argv[2] });
