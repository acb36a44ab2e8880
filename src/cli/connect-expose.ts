// `proconsul connect expose`: adds a service to an ingress gateway's listener (creating the
// gateway's config entry or listener when absent, written with check-and-set) and an allow
// intention from the gateway to the service, with Consul's messages and exit codes.

import type { ConfigEntryBody } from '../api/config-entries.ts';
import { IntentionsApi } from '../api/intentions.ts';
import type { ConsulClient } from '../api/index.ts';
import { FlagError, parseFlags, type ParsedFlags } from './flags.ts';
import { HTTP_FLAGS, clientFromFlags } from './http-flags.ts';
import { parseIntentionTarget } from './intention-create.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { goFlagDefaults } from './usage.ts';

interface IngressService {
  Name: string;
  Namespace?: string;
  Partition?: string;
  Hosts?: string[];
}

type Target = { name: string; ns: string; partition: string };

interface IngressListener {
  Port: number;
  Protocol?: string;
  Services?: IngressService[] | null;
}

/** Go's %q for the plain names these messages quote. */
const q = (s: string): string => JSON.stringify(s);

/** Consul's entMetaMatch: same namespace and partition, empty meaning default, case-insensitive. */
const entMetaMatch = (a: IngressService, b: IngressService): boolean =>
  (a.Namespace || 'default').toLowerCase() === (b.Namespace || 'default').toLowerCase()
  && (a.Partition || 'default').toLowerCase() === (b.Partition || 'default').toLowerCase();

class Failure extends Error {}

/** The Namespace and Partition fields of a target, omitted when empty as Go's omitempty does. */
const entMeta = (t: Target): { Namespace?: string; Partition?: string } => ({
  ...(t.ns ? { Namespace: t.ns } : {}), ...(t.partition ? { Partition: t.partition } : {}),
});

/** The parsed target `[ns/]name`, or a Failure with `what`'s message. */
function target(input: string, what: string): Target {
  try {
    return parseIntentionTarget(input);
  } catch (err) {
    throw new Failure(`${what}: ${(err as Error).message}`);
  }
}

/** The gateway's entry with the service added to (or replaced on) the listener for `port`. */
function withService(
  entry: ConfigEntryBody, svc: IngressService, port: number, protocol: string, flagService: string, out: (s: string) => void,
): ConfigEntryBody {
  const listeners = [...((entry.Listeners as IngressListener[] | null | undefined) ?? [])];
  let listenerIdx = -1;
  let serviceIdx = -1;
  listeners.forEach((l, i) => {
    if (l.Port !== port) return;
    listenerIdx = i;
    if ((l.Protocol ?? '') !== protocol) throw new Failure(`Listener on port ${l.Port} already configured with conflicting protocol ${q(l.Protocol ?? '')}`);
    const j = (l.Services ?? []).findIndex((s) => s.Name === svc.Name && entMetaMatch(s, svc));
    if (j >= 0) {
      serviceIdx = j;
      out(`Updating service definition for ${q(flagService)} on listener with port ${l.Port}`);
    }
  });
  if (listenerIdx < 0) {
    listeners.push({ Port: port, Protocol: protocol, Services: [svc] });
  } else {
    const l = listeners[listenerIdx];
    const services = [...(l.Services ?? [])];
    if (serviceIdx >= 0) services[serviceIdx] = svc;
    else services.push(svc);
    listeners[listenerIdx] = { ...l, Services: services };
  }
  return { ...entry, Listeners: listeners };
}

async function expose(client: ConsulClient, flags: ParsedFlags, io: CliIO): Promise<number> {
  const out = ui(io);
  const v = flags.values;
  const flagService = String(v.service ?? '');
  const flagGateway = String(v['ingress-gateway'] ?? '');
  const port = Number(v.port ?? 0);
  const protocol = String(v.protocol);
  if (flagService === '') throw new Failure('A service name must be given via the -service flag.');
  const svc = target(flagService, 'Invalid service name');
  if (flagGateway === '') throw new Failure('An ingress gateway service must be given via the -ingress-gateway flag.');
  const gw = target(flagGateway, 'Invalid ingress gateway name');
  if (port === 0) throw new Failure('A port must be provided via the -port flag.');

  // The entry is read and written in the gateway's namespace and partition (Consul's Query/WriteOptions).
  const tenancy = { ns: gw.ns || undefined, partition: gw.partition || undefined };
  // A missing entry is created; only other failures end the command.
  const path = `/v1/config/ingress-gateway/${encodeURIComponent(gw.name)}`;
  let entry = await client.json<ConfigEntryBody>({ method: 'GET', path, query: tenancy }).then((r) => r.data, (err: Error) => {
    if (!err.message.includes('Config entry not found')) throw new Failure(`Error fetching existing ingress gateway configuration: ${err.message}`);
    return { Kind: 'ingress-gateway', Name: gw.name, ...entMeta(gw) } as ConfigEntryBody;
  });
  const hosts = (v.host as string[] | undefined) ?? [];
  const newService: IngressService = { Name: svc.name, ...entMeta(svc), ...(hosts.length ? { Hosts: hosts } : {}) };
  entry = withService(entry, newService, port, protocol, flagService, out.info);
  const cas = Number(entry.ModifyIndex ?? 0);
  const written = await client.json<boolean>({ method: 'PUT', path: '/v1/config', query: { ...tenancy, cas }, json: entry }).catch((err: Error) => {
    throw new Failure(`Error writing ingress config entry: ${err.message}`);
  });
  if (!written.data) throw new Failure('Ingress config entry was changed while attempting to update, please try again.');
  out.info(`Successfully updated config entry for ingress service ${q(gw.name)}`);

  const intentions = new IntentionsApi(client);
  const existing = await intentions.getExact(flagGateway, flagService).catch((err: Error) => {
    throw new Failure(`Error looking up existing intention: ${err.message}`);
  });
  if (existing && existing.Action === 'allow') {
    out.info(`Intention already exists for ${q(flagGateway)} -> ${q(flagService)}`);
    return 0;
  }
  await intentions.upsert({
    SourceName: gw.name, SourceNS: gw.ns || undefined, SourcePartition: gw.partition || undefined,
    DestinationName: svc.name, DestinationNS: svc.ns || undefined, DestinationPartition: svc.partition || undefined,
    SourceType: 'consul', Action: 'allow',
  }).catch((err: Error) => {
    throw new Failure(`Error upserting intention: ${err.message}`);
  });
  out.info(`Successfully set up intention for ${q(flagGateway)} -> ${q(flagService)}`);
  return 0;
}

/** The `connect expose` command. */
export const connectExposeCommand: Command = {
  name: 'connect expose',
  synopsis: 'Expose a Connect-enabled service through an Ingress gateway',
  flags: [
    { name: 'ingress-gateway', kind: 'string', usage: "(Required) The name of the ingress gateway service to use. Namespace and partition can optionally be specified as a prefix via the 'partition/namespace/service' format." },
    { name: 'service', kind: 'string', usage: "(Required) The name of destination service to expose. Namespace and partition can optionally be specified as a prefix via the 'partition/namespace/service' format." },
    { name: 'port', kind: 'int', default: 0, usage: '(Required) The listener port to use for the service on the Ingress gateway.' },
    { name: 'protocol', kind: 'string', default: 'tcp', usage: "The protocol for the service. Defaults to 'tcp'." },
    { name: 'host', kind: 'list', usage: 'Additional DNS hostname to use for routing to this service.Can be specified multiple times.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul connect expose [options]

  Exposes a Connect-enabled service through the given ingress gateway, using the
  given protocol and port.

      $ proconsul connect expose -service=web -ingress-gateway=ingress -port=8080 -protocol=http -host=web.example.com
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    let flags: ParsedFlags;
    try {
      flags = parseFlags(this.flags, args);
    } catch (err) {
      if (!(err instanceof FlagError)) throw err;
      io.stderr(`${err.message}\nUsage:\n${goFlagDefaults(this.flags)}`);
      out.error(`Failed to parse args: ${err.message}`);
      return 1;
    }
    let client: ConsulClient;
    try {
      client = clientFromFlags(flags, io.env);
    } catch (err) {
      out.error(`Error initializing client: ${(err as Error).message}`);
      return 1;
    }
    try {
      return await expose(client, flags, io);
    } catch (err) {
      if (!(err instanceof Failure)) throw err;
      out.error(err.message);
      return 1;
    } finally {
      client.close();
    }
  },
};
