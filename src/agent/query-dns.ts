// `.query` DNS questions (Consul's preparedQueryLookup): the prepared query executed under the
// DNS token as this agent, its healthy instances handed to the DNS answers with its DNS TTL.
// Executions wait through a bounded queue (a failover waits on other datacenters): identical
// questions at once share one, and under a flood the oldest are shed and stale ones dropped.
import type { DnsInstance } from '../endpoint/dns-view.ts';
import type { AclIdentity } from '../endpoint/index.ts';
import type { PreparedQueryEndpoint } from '../endpoint/prepared-query.ts';
import type { QueryExecution } from '../dns/answers.ts';
import type { CallSignal, UpstreamQueue } from '../dns/index.ts';

/** The executor a DnsHandler's `queries` dependency takes. */
export function dnsQueryExecutor(
  ep: PreparedQueryEndpoint, resolve: (secret: string) => AclIdentity, nodeName: string, queue?: UpstreamQueue,
): (name: string, token: string, ip: string, agentNode?: string, agentDatacenter?: string) => Promise<QueryExecution> {
  // `_agent` is the agent the question was asked of: a client agent forwarding it, else this one (Consul's Agent.Node);
  // `agentDatacenter` its datacenter when a server of another one forwarded the question ('' here: Agent.Datacenter).
  // `signal`: the queue gave up on every question waiting for it; a failover's remote call is cancelled.
  const execute = async (name: string, token: string, ip: string, agentNode: string, agentDatacenter: string, signal?: CallSignal): Promise<QueryExecution> => {
    const res = await ep.execute(name, { minIndex: 0, waitMs: 0, consistency: 'default', token, authz: resolve(token), signal }, {
      limit: 0, connect: false, near: '', ip, agentNode, datacenter: agentDatacenter,
    });
    // A peer's instances (the query's peer, or a failover to one) are named in SRV targets by the
    // partition they are imported into, the query's, as Consul names a result by its service's
    // partition (<node>.node.<peer>.peer.<ap>.ap); their records carry the exporter's.
    const imported = res.PeerName ? res.Partition || 'default' : '';
    const instances: DnsInstance[] = res.Nodes.map((n) => {
      const critical = n.Checks.some((c) => c.Status === 'critical');
      const allPassing = n.Checks.every((c) => c.Status === 'passing');
      const service = imported ? { ...n.Service, Partition: imported } : n.Service;
      return { node: n.Node, service, status: critical ? 'critical' : allPassing ? 'passing' : 'warning', allPassing };
    });
    return { service: res.Service, instances, ttl: res.DNS.TTL, datacenter: res.Datacenter };
  };
  if (!queue) return (name, token, ip, agentNode, agentDatacenter = '') => execute(name, token, ip, agentNode || nodeName, agentDatacenter);
  return (name, token, ip, agentNode, agentDatacenter = '') => {
    const node = agentNode || nodeName;
    return queue.run(`${name}\n${token}\n${ip}\n${node}\n${agentDatacenter}`, (signal) => execute(name, token, ip, node, agentDatacenter, signal));
  };
}
