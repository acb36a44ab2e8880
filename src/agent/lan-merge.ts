// Consul's lanMergeDelegate: what the LAN pool refuses to merge. Another agent with this agent's
// node ID under another name, two members sharing a node ID, an agent or server of another
// datacenter (a server of dc2 joined to dc1's LAN by mistake), or another network segment.
import type { RuntimeConfig } from './config/runtime.ts';

type Candidate = { name: string; tags: Record<string, string> };

/** The merge check for this agent's LAN pool; returns Consul's error text for the first offender. */
export function lanMergeCheck(c: Pick<RuntimeConfig, 'datacenter' | 'nodeId' | 'nodeName'>, segment = ''): (members: Candidate[]) => string | null {
  return (members) => {
    const ids = new Map<string, string>();
    for (const m of members) {
      const id = m.tags.id;
      if (id) {
        if (id === c.nodeId && m.name.toLowerCase() !== c.nodeName.toLowerCase()) {
          return `Member '${m.name}' has conflicting node ID '${id}' with this agent's ID`;
        }
        const other = ids.get(id);
        if (other !== undefined) return `Member '${m.name}' has conflicting node ID '${id}' with member '${other}'`;
        ids.set(id, m.name);
      }
      const role = m.tags.role;
      if ((role === 'node' || role === 'consul') && m.tags.dc !== undefined && m.tags.dc !== c.datacenter) {
        return `Member '${m.name}' part of wrong datacenter '${m.tags.dc}'`;
      }
      const seg = m.tags.segment ?? '';
      if (seg !== segment) return `Member '${m.name}' part of wrong segment '${seg}' (expected '${segment}')`;
    }
    return null;
  };
}
