// Server agents sharing one external etcd store, started and stopped around a test file.
import { after, before } from 'node:test';
import { readStore } from '../../src/agent/config/build.ts';
import { startDevAgent, type DevAgent } from './agent.ts';
import { etcdStoreUrl, startEtcd, type EtcdCluster } from './etcd.ts';

/**
 * Registers before/after hooks that start a one-member etcd and a server agent per name storing
 * in it, then stop them all; the returned array is filled once `before` ran.
 */
export function etcdBackedAgents(names: string[] = ['server-a', 'server-b']): DevAgent[] {
  let etcd: EtcdCluster | undefined;
  const agents: DevAgent[] = [];
  before(async () => {
    etcd = await startEtcd(1);
    const store = readStore(etcdStoreUrl(etcd), false);
    for (const nodeName of names) agents.push(await startDevAgent({ config: { store, nodeName } }));
  });
  after(async () => {
    for (const a of agents) await a.stop();
    await etcd?.stop();
  });
  return agents;
}

/** The URL of `path` on the agent's HTTP API. */
export function agentUrl(a: DevAgent, path: string): string {
  return `http://${a.httpAddr}${path}`;
}
