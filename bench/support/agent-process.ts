// A dev agent in its own process for benchmarks, so the load generator never shares its event
// loop. Usage: node bench/support/agent-process.ts --backend memory|embedded|etcd [--dir DIR]
// [--endpoints URL,URL] [--history-limit N] [--prefill N] [--max-conns N] [--v8-defaults] (V8 as
// a plain node process has it; by default the process runs as `proconsul agent` does, cli-v8.ts). Prefills its store
// (see kv-data.ts), then prints one JSON line `{"http":"127.0.0.1:PORT"}` on stdout; stops
// cleanly on SIGTERM/SIGINT or when stdin closes (so it never outlives the bench), which also
// lets --cpu-prof write its profile. --max-conns sets limits.http_max_conns_per_client (Consul's
// default 200 would refuse the 256-client cells).
import { parseArgs } from 'node:util';
import { asCliAgent, cliIdleMemory } from './cli-v8.ts';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    dir: { type: 'string' },
    'history-limit': { type: 'string' },
    prefill: { type: 'string', default: '0' },
    endpoints: { type: 'string' },
    'max-conns': { type: 'string', default: '200' },
    'v8-defaults': { type: 'boolean', default: false },
  },
});
asCliAgent(opts['v8-defaults']);
const { benchAgent, localStore, serveUntilStopped } = await import('./bench-agent.ts');
const { prefill } = await import('./kv-data.ts');
const backend = opts.backend;
if (backend !== 'memory' && backend !== 'embedded' && backend !== 'etcd') throw new Error(`unknown backend ${backend}`);
if (backend === 'embedded' && !opts.dir) throw new Error('the embedded backend needs --dir');
if (backend === 'etcd' && !opts.endpoints) throw new Error('the etcd backend needs --endpoints');
const historyLimit = opts['history-limit'] ? Number(opts['history-limit']) : undefined;
// The memory and embedded stores are built here only so the bench can set the history limit; the etcd
// store is built by createAgent from the config, as `-store etcd://…` does.
const agent = benchAgent({
  storeConfig: backend === 'etcd' ? { backend, etcd: { endpoints: opts.endpoints!.split(',') } } : { backend },
  store: backend === 'etcd' ? undefined : localStore(backend, opts.dir, historyLimit),
  dir: opts.dir, maxConns: Number(opts['max-conns']),
});
await agent.start();
await agent.replica.waitFor(await prefill(agent.store, Number(opts.prefill)));
serveUntilStopped(agent);
await cliIdleMemory(opts['v8-defaults']);
process.stdin.resume();
