// What the benchmark agent processes (agent-process.ts, scale-agent.ts) share: the agent they
// build (node `bench-node`, errors-only logging, a configurable per-client connection limit,
// optionally an HTTPS listener) and their lifecycle: announce the HTTP(S) addresses on stdout,
// stop cleanly on a signal or when stdin closes, so the process never outlives the bench and
// --cpu-prof can write its profile.
import path from 'node:path';
import { createAgent, type Agent, type RuntimeConfig } from '../../src/index.ts';
import { loadConfig } from '../../src/agent/config/index.ts';
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

/** PEM files for an HTTPS listener: the server's certificate and key and the CA that issued it. */
export interface BenchTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * The config of an HTTPS listener on 127.0.0.1 (an ephemeral port) with these files, read by the
 * real loader from a `tls { defaults { ... } }` stanza as an agent's HCL would give it.
 */
export async function httpsConfig(files: BenchTlsFiles): Promise<Partial<RuntimeConfig>> {
  const hcl = `tls { defaults { ca_file = ${JSON.stringify(files.caFile)} cert_file = ${JSON.stringify(files.certFile)} key_file = ${JSON.stringify(files.keyFile)} } }`;
  const { tls } = (await loadConfig({ args: ['-dev', '-hcl', hcl] })).config;
  return { ports: { ...devConfig().ports, https: 0 }, httpsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }], tls };
}

/**
 * Builds the bench agent: `storeConfig` as `-store` would give it, `store` (when given) as the
 * Store built by the caller, data in `dir`, limits.http_max_conns_per_client `maxConns`, and
 * `more` config (e.g. httpsConfig()).
 */
export function benchAgent(o: { storeConfig: RuntimeConfig['store']; store?: Store; dir?: string; maxConns: number; more?: Partial<RuntimeConfig> }): Agent {
  const base = devConfig();
  return createAgent(
    devConfig({
      ...o.more,
      store: o.storeConfig, dataDir: o.dir ?? null, nodeName: 'bench-node', logLevel: 'error',
      limits: { ...base.limits, ...o.more?.limits, httpMaxConnsPerClient: o.maxConns },
    }),
    { logger: silentLogger(), ...(o.store ? { store: o.store } : {}) },
  );
}

/**
 * Prints `{"http":"127.0.0.1:PORT"}` on stdout (with `"https"` when the agent has an HTTPS
 * listener); stops the agent and exits 0 on SIGTERM, SIGINT or stdin's end.
 */
export function serveUntilStopped(agent: Agent, https = false): void {
  const [http, tls] = agent.httpAddresses();
  process.stdout.write(JSON.stringify(https ? { http, https: tls } : { http }) + '\n');
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
