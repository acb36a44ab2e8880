// `[tag.]<service>.service[.<ns>.ns].<sg>.sg[.<ap>.ap]` (and the RFC 2782 SRV form): the healthy
// instances of the first member of the sameness group, in failover order, that has any, as
// Consul Enterprise answers. The group is the asking partition's (the `.ap` label, else the
// agent's); a partition member counts only for services it exports to the asking partition, a
// peer member with the services imported from that peer into the namespace.
import { InternalError, NotFoundError } from '../errors.ts';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import type { DnsConfig } from './config.ts';
import type { Locality } from './name.ts';
import { importedInto } from './records.ts';

const DEFAULT = 'default';

/** What the lookup reads: the agent's settings and the root DNS view. */
export interface SamenessContext {
  cfg: DnsConfig;
  view: DnsReader;
}

/**
 * The instances a `.sg` service question answers with (possibly none: NXDOMAIN then). A group
 * without DefaultForFailover is NXDOMAIN, the one error Consul's DNS turns into a name error; a
 * group the partition does not have is SERVFAIL, as Consul answers any other lookup error.
 */
export function samenessInstances(service: string, tag: string, l: Locality, c: SamenessContext): DnsInstance[] {
  const partition = l.partition || c.cfg.partition || DEFAULT;
  const namespace = l.namespace || DEFAULT;
  const group = c.view.samenessGroup?.(partition, l.samenessGroup);
  if (!group) throw new InternalError('Sameness Group not found');
  if (!group.defaultForFailover) throw new NotFoundError('Sameness Group must have DefaultForFailover set to true in order to use this endpoint');
  const opts = { tag, onlyPassing: c.cfg.onlyPassing };
  const local = readerOf(c.view, partition, namespace);
  for (const m of group.members) {
    let found: DnsInstance[] = [];
    if (m.peer !== undefined) found = importedInto(local?.peerInstances?.(m.peer, service, opts) ?? [], partition);
    else if (m.partition === partition || c.view.exportedTo?.(m.partition, namespace, service, partition)) {
      found = readerOf(c.view, m.partition, namespace)?.instances(service, opts) ?? [];
    }
    if (found.length > 0) return found;
  }
  return [];
}

/** The reader of a tenant: the root view for default/default, undefined when the tenant does not exist. */
function readerOf(view: DnsReader, partition: string, namespace: string): DnsReader | undefined {
  return partition === DEFAULT && namespace === DEFAULT ? view : view.tenant?.({ partition, namespace });
}
