// The serf member tags an agent gossips about itself (Consul's setupSerf tags): role, dc,
// build, id, segment, protocol versions and, on servers, the server port and bootstrap mode.
import type { RuntimeConfig } from './config/runtime.ts';
import { CONSUL_API_VERSION, gitRevision } from '../version.ts';
import { formatGoDuration } from '../duration.ts';

/** The tags this agent's gossip member carries. */
export function memberTags(c: RuntimeConfig): Record<string, string> {
  const tags: Record<string, string> = {
    build: `${CONSUL_API_VERSION}:${gitRevision().slice(0, 8)}`, dc: c.datacenter, id: c.nodeId,
    role: c.server ? 'consul' : 'node', segment: '', vsn: '2', vsn_max: '3', vsn_min: '2',
  };
  // A client agent in another admin partition says so (Consul Enterprise's `ap` tag): the leader registers it there.
  const ap = (c.partition ?? '').toLowerCase();
  if (ap && ap !== 'default') tags.ap = ap;
  // advertise_reconnect_timeout: how long the others keep this client once it failed (Consul's rc_tm).
  const rc = c.gossip?.advertiseReconnectTimeoutMs ?? 0;
  if (rc > 0) tags.rc_tm = formatGoDuration(rc);
  if (c.server) {
    Object.assign(tags, { port: String(c.ports.server), raft_vsn: '3', ft_fs: '1', ft_si: '1' });
    // Where the other servers of this datacenter flood-join our WAN pool; none when it is disabled.
    if (c.ports.serfWan > 0) tags.wan_join_port = String(c.ports.serfWan);
    if (c.bootstrapExpect) tags.expect = String(c.bootstrapExpect);
    if (c.bootstrap) tags.bootstrap = '1';
    if (c.ports.grpcTls > 0) tags.grpc_tls_port = String(c.ports.grpcTls);
  }
  return tags;
}
