// A dev agent in its own process for the fan-out and catalog benchmarks, with Consul's
// per-client connection limit (`limits.http_max_conns_per_client`) configurable so tens of
// thousands of loopback watchers can connect. Usage:
//   node bench/support/scale-agent.ts --backend memory|embedded [--dir DIR] [--max-conns N]
// Prints one JSON line `{"http":"127.0.0.1:PORT"}` once serving; stops cleanly on SIGTERM or when
// stdin closes (so it never outlives the bench), which also lets --cpu-prof write its profile.
// Commands, one per stdin line, each answered by one JSON line on stdout:
//   memory            a memory-reducing full GC (when started with --expose-gc; what V8's memory
//                     reducer does once an agent is idle), then process.memoryUsage()
//   heapsnapshot PATH writes a V8 heap snapshot to PATH
import v8 from 'node:v8';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { benchAgent, localStore, serveUntilStopped } from './bench-agent.ts';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    dir: { type: 'string' },
    'max-conns': { type: 'string', default: '0' },
  },
});
const backend = opts.backend;
if (backend !== 'memory' && backend !== 'embedded') throw new Error(`unknown backend ${backend}`);
if (backend === 'embedded' && !opts.dir) throw new Error('the embedded backend needs --dir');
const agent = benchAgent({ storeConfig: { backend }, store: localStore(backend, opts.dir), dir: opts.dir, maxConns: Number(opts['max-conns']) });
await agent.start();
serveUntilStopped(agent);
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/, 2);
  const reply = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  if (cmd === 'memory') {
    // 'last-resort' collects repeatedly and compacts, releasing emptied pages; then give the
    // concurrent sweeper a moment to hand them back before reading RSS.
    const gc = (globalThis as { gc?: (o?: object) => void }).gc;
    gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    setTimeout(() => reply({ gc: Boolean(gc), ...process.memoryUsage() }), 500);
  } else if (cmd === 'heapsnapshot' && arg) reply({ path: v8.writeHeapSnapshot(arg) });
  else reply({ error: `unknown command ${line}` });
});
