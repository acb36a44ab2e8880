// What the benchmark agent processes (agent-process.ts, scale-agent.ts) share: the agent they
// build (node `bench-node`, errors-only logging, a configurable per-client connection limit)
// and their lifecycle: announce the HTTP address on stdout, stop cleanly on a signal or when
// stdin closes, so the process never outlives the bench and --cpu-prof can write its profile.
import path from 'node:path';
import { createAgent, type Agent, type RuntimeConfig } from '../../src/index.ts';
import { silentLogger } from '../../src/log.ts';
import { MemoryStore, type Store } from '../../src/store/index.ts';
import { EmbeddedStore } from '../../src/store/embedded/embedded.ts';
import { devConfig } from '../../test/support/agent.ts';

/** A memory store, or an embedded one under `<dir>/store`, with an optional history limit. */
export function localStore(backend: 'memory' | 'embedded', dir: string | undefined, historyLimit?: number): Store {
  if (backend === 'memory') return new MemoryStore({ historyLimit });
  if (!dir) throw new Error('the embedded backend needs --dir');
  return new EmbeddedStore({ dir: path.join(dir, 'store'), historyLimit });
}

/**
 * Builds the bench agent: `storeConfig` as `-store` would give it, `store` (when given) as the
 * Store built by the caller, data in `dir`, limits.http_max_conns_per_client `maxConns`.
 */
export function benchAgent(o: { storeConfig: RuntimeConfig['store']; store?: Store; dir?: string; maxConns: number }): Agent {
  const base = devConfig();
  return createAgent(
    devConfig({
      store: o.storeConfig, dataDir: o.dir ?? null, nodeName: 'bench-node', logLevel: 'error',
      limits: { ...base.limits, httpMaxConnsPerClient: o.maxConns },
    }),
    { logger: silentLogger(), ...(o.store ? { store: o.store } : {}) },
  );
}

/** Prints `{"http":"127.0.0.1:PORT"}` on stdout; stops the agent and exits 0 on SIGTERM, SIGINT or stdin's end. */
export function serveUntilStopped(agent: Agent): void {
  process.stdout.write(JSON.stringify({ http: agent.httpAddresses()[0] }) + '\n');
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await agent.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
}
