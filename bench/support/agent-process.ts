// A dev agent in its own process for benchmarks, so the load generator never shares its event
// loop. Usage: node bench/support/agent-process.ts --backend memory|embedded|etcd [--dir DIR]
// [--endpoints URL,URL] [--history-limit N] [--prefill N] [--max-conns N]. Prefills its store
// (see kv-data.ts), then prints one JSON line `{"http":"127.0.0.1:PORT"}` on stdout; stops
// cleanly on SIGTERM/SIGINT or when stdin closes (so it never outlives the bench), which also
// lets --cpu-prof write its profile. --max-conns sets limits.http_max_conns_per_client (Consul's
// default 200 would refuse the 256-client cells).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAgent } from '../../src/index.ts';
import { silentLogger } from '../../src/log.ts';
import { MemoryStore, type Store } from '../../src/store/index.ts';
import { EmbeddedStore } from '../../src/store/embedded/embedded.ts';
import { devConfig } from '../../test/support/agent.ts';
import { prefill } from './kv-data.ts';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    dir: { type: 'string' },
    'history-limit': { type: 'string' },
    prefill: { type: 'string', default: '0' },
    endpoints: { type: 'string' },
    'max-conns': { type: 'string', default: '200' },
  },
});
const backend = opts.backend;
if (backend !== 'memory' && backend !== 'embedded' && backend !== 'etcd') throw new Error(`unknown backend ${backend}`);
if (backend === 'embedded' && !opts.dir) throw new Error('the embedded backend needs --dir');
if (backend === 'etcd' && !opts.endpoints) throw new Error('the etcd backend needs --endpoints');
const historyLimit = opts['history-limit'] ? Number(opts['history-limit']) : undefined;
// Built here rather than by createAgent only so the bench can set the history limit; the etcd
// store is built by createAgent from the config, as `-store etcd://…` does.
const store: Store | undefined = backend === 'memory'
  ? new MemoryStore({ historyLimit })
  : backend === 'embedded' ? new EmbeddedStore({ dir: path.join(opts.dir!, 'store'), historyLimit }) : undefined;
const base = devConfig();
const agent = createAgent(
  devConfig({
    store: backend === 'etcd' ? { backend, etcd: { endpoints: opts.endpoints!.split(',') } } : { backend },
    dataDir: opts.dir ?? null, nodeName: 'bench-node', logLevel: 'error',
    limits: { ...base.limits, httpMaxConnsPerClient: Number(opts['max-conns']) },
  }),
  { logger: silentLogger(), ...(store ? { store } : {}) },
);
await agent.start();
await agent.replica.waitFor(await prefill(agent.store, Number(opts.prefill)));
process.stdout.write(JSON.stringify({ http: agent.httpAddresses()[0] }) + '\n');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await agent.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
