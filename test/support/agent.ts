// Starts a real dev agent in-process on 127.0.0.1 with an ephemeral HTTP port, for
// integration tests that talk to it over real sockets with real clients.
import { randomUUID } from 'node:crypto';
// The agent's own module, not src/index.ts: that also loads the client agent (and its DNS), which
// test/startup-lazy.test.ts would then see loaded by every start.
import { createAgent, type Agent, type AgentDeps } from '../../src/agent/agent.ts';
import type { RuntimeConfig } from '../../src/agent/config/runtime.ts';
import { silentLogger } from '../../src/log.ts';

/** A RuntimeConfig with -dev-like defaults (memory store; `dev` false so JSON stays compact), HTTP on 127.0.0.1:0, DNS off. */
export function devConfig(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  return {
    dev: false, server: true, bootstrap: true, bootstrapExpect: 0, datacenter: 'dc1', primaryDatacenter: 'dc1',
    nodeName: 'test-node', nodeId: randomUUID(), nodeMeta: {}, dataDir: null, store: { backend: 'memory' },
    bindAddr: '127.0.0.1', advertiseAddr: '127.0.0.1', advertiseAddrWan: '127.0.0.1', clientAddrs: ['127.0.0.1'],
    ports: { http: 0, https: -1, dns: -1, grpc: 8502, grpcTls: 8503, serfLan: 8301, serfWan: 8302, server: 8300 },
    httpAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }], dnsAddrs: [], domain: 'consul.', altDomain: '',
    logLevel: 'debug', logJson: false, logFile: '', pidFile: '', uiEnabled: true,
    defaultQueryTime: 300_000, maxQueryTime: 600_000,
    limits: { kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, httpMaxConnsPerClient: 200 },
    http: { responseHeaders: {}, allowWriteHttpFrom: [], blockEndpoints: [], useCache: true },
    acl: {
      enabled: false, defaultPolicy: 'allow', downPolicy: 'extend-cache',
      tokens: { initialManagement: '', agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
    },
    connect: { enabled: true, caProvider: 'consul', caConfig: {} },
    sessionTtlMin: 10_000, raw: {}, sources: [],
    ...overrides,
  };
}

/** A started agent and its HTTP address. */
export interface DevAgent {
  agent: Agent;
  /** `127.0.0.1:PORT` */
  httpAddr: string;
  stop(): Promise<void>;
}

/** Starts a dev agent; call stop() in an after hook. */
export async function startDevAgent(opts: { config?: Partial<RuntimeConfig>; deps?: AgentDeps } = {}): Promise<DevAgent> {
  const agent = createAgent(devConfig(opts.config), { logger: silentLogger(), ...opts.deps });
  await agent.start();
  return { agent, httpAddr: agent.httpAddresses()[0], stop: () => agent.stop() };
}
