// `proconsul services export`: adds a service, with consumer peers and partitions, to the
// `exported-services` config entry (created when missing) with a check-and-set write, as
// Consul's command does; the texts and exit codes are Consul's.
import { ConfigError, type ConsulClient } from '../api/index.ts';
import type { ConfigEntryBody } from '../api/config-entries.ts';
import { clientFromFlags, HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** One consumer of an exported service. */
interface Consumer { Peer?: string; Partition?: string; SamenessGroup?: string }
/** One service of the entry. */
interface ExportedService { Name: string; Namespace?: string; Consumers?: Consumer[] | null }
type ExportedServicesEntry = ConfigEntryBody & { Services?: ExportedService[] | null; ModifyIndex?: number };

// Consul's getPeerNames/getPartitionNames: a comma list in which no name may be empty.
function names(raw: string, what: string): string[] {
  if (raw === '') return [];
  const list = raw.split(',');
  for (const n of list) if (n === '') throw new Error(`Invalid ${what} ${JSON.stringify(n)}`);
  return list;
}

function consumers(peers: string[], partitions: string[]): Consumer[] {
  return [...peers.map((Peer) => ({ Peer })), ...partitions.map((Partition) => ({ Partition }))];
}

/** The entry with the service added, or its missing consumers added to it (Consul's updateConfigEntry). */
export function addExport(entry: ExportedServicesEntry, service: string, peers: string[], partitions: string[], namespace = ''): ExportedServicesEntry {
  const services = [...(entry.Services ?? [])];
  let found = false;
  services.forEach((s, i) => {
    if (s.Name !== service || (s.Namespace ?? '') !== namespace) return;
    found = true;
    const list = [...(s.Consumers ?? [])];
    for (const Peer of peers) if (!list.some((c) => c.Peer === Peer)) list.push({ Peer });
    for (const Partition of partitions) if (!list.some((c) => c.Partition === Partition)) list.push({ Partition });
    services[i] = { ...s, Consumers: list };
  });
  if (!found) services.push({ Name: service, ...(namespace ? { Namespace: namespace } : {}), Consumers: consumers(peers, partitions) });
  return { ...entry, Services: services };
}

/** The -namespace and -partition flags as query parameters (the Go client's defaults for every call). */
type Tenancy = { ns?: string; partition?: string };

async function readEntry(client: ConsulClient, name: string, tenancy: Tenancy): Promise<ExportedServicesEntry | null> {
  try {
    return (await client.json<ExportedServicesEntry>({ method: 'GET', path: `/v1/config/exported-services/${encodeURIComponent(name)}`, query: tenancy })).data;
  } catch (err) {
    if ((err as Error).message.includes('Config entry not found')) return null;
    throw new Error(`Error reading config entry exported-services/default: ${(err as Error).message}`, { cause: err });
  }
}

/** The `services export` command. */
export const servicesExportCommand: Command = {
  name: 'services export',
  synopsis: 'Export a service from one peer or admin partition to another',
  flags: [
    { name: 'name', kind: 'string', default: '', usage: '(Required) Specify the name of the service you want to export.' },
    { name: 'consumer-peers', kind: 'string', default: '', usage: '(Required) A comma-separated list of cluster peers to export the service to. In Consul Enterprise, this flag is optional if -consumer-partitions is specified.' },
    { name: 'consumer-partitions', kind: 'string', default: '', usage: '(Enterprise only) A comma-separated list of admin partitions within the same datacenter to export the service to. This flag is optional if -consumer-peers is specified.' },
    ...HTTP_CLIENT_FLAGS,
    // Consul's MultiTenancyFlags.
    { name: 'namespace', kind: 'string', usage: "Specifies the namespace to query. If not provided, the namespace will be inferred from the request's ACL token, or will default to the `default` namespace. Namespaces are a Consul Enterprise feature." },
    { name: 'partition', kind: 'string', usage: "Specifies the admin partition to query. If not provided, the admin partition will be inferred from the request's ACL token, or will default to the `default` admin partition. Admin Partitions are a Consul Enterprise feature." },
  ],
  help: `
Usage: proconsul services export [options] -name <service name> -consumer-peers <other cluster name>

  Export a service to a peered cluster.

      $ proconsul services export -name=web -consumer-peers=other-cluster

  Use the -consumer-partitions flag instead of -consumer-peers to export to a different partition in the same cluster.

      $ proconsul services export -name=web -consumer-partitions=other-partition

  Additional flags and more advanced use cases are detailed below.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const service = String(flags.values.name);
    const peerFlag = String(flags.values['consumer-peers']);
    const partitionFlag = String(flags.values['consumer-partitions']);
    let client: ConsulClient;
    let peers: string[];
    let partitions: string[];
    try {
      if (service === '') throw new Error('Missing the required -name flag');
      if (peerFlag === '' && partitionFlag === '') throw new Error('Missing the required -consumer-peers or -consumer-partitions flag');
      peers = names(peerFlag, 'peer');
      partitions = names(partitionFlag, 'partition');
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    }
    try {
      client = clientFromFlags(flags, io.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      out.error(`Error connect to Consul agent: ${err.message}`);
      return 1;
    }
    try {
      // The entry is named after the partition: "default" without one.
      const namespace = String(flags.values.namespace ?? '');
      const partition = String(flags.values.partition ?? '');
      const tenancy: Tenancy = { ns: namespace || undefined, partition: partition || undefined };
      const cfgName = partition || 'default';
      const existing = await readEntry(client, cfgName, tenancy);
      const entry = addExport(existing ?? { Kind: 'exported-services', Name: cfgName }, service, peers, partitions, namespace);
      let ok: boolean;
      try {
        ok = (await client.json<boolean>({ method: 'PUT', path: '/v1/config', query: { ...tenancy, cas: existing?.ModifyIndex ?? 0 }, json: entry })).data;
      } catch (err) {
        throw new Error(`Error writing config entry: ${(err as Error).message}`, { cause: err });
      }
      if (!ok) throw new Error('Config entry was changed during update. Please try again');
      const q = JSON.stringify;
      if (peerFlag && partitionFlag) out.info(`Successfully exported service ${q(service)} to cluster peers ${q(peerFlag)} and to partitions ${q(partitionFlag)}`);
      else if (peerFlag) out.info(`Successfully exported service ${q(service)} to cluster peers ${q(peerFlag)}`);
      else out.info(`Successfully exported service ${q(service)} to partitions ${q(partitionFlag)}`);
      return 0;
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    } finally {
      client.close();
    }
  },
};
