// `proconsul services register`: register services with the local agent from configuration
// files (HCL or JSON) or from flags; flag values fill what a file leaves unset (Consul's CombineArgs).

import type { AgentServiceRegistration, ServiceAddress } from '../api/index.ts';
import { step, withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi, mapFlag } from './catalog-flags.ts';
import { servicesFromFiles } from './services-config.ts';

/** Go's api.ParseServiceAddr: `host:port`, where the port is required. */
export function parseServiceAddr(v: string): ServiceAddress {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(v);
  if (!m) throw new Error(`address ${v}: missing port in address`);
  return { Address: m[1] ?? m[2], Port: Number(m[3]) };
}

/** Fills fields a file left empty from the flags; meta, tagged addresses and tags are merged (CombineArgs). */
export function combineArgs(file: AgentServiceRegistration, flags: AgentServiceRegistration): void {
  for (const k of ['ID', 'Name', 'Address', 'Port', 'Kind', 'SocketPath'] as const) {
    if (flags[k] && !file[k]) (file as Record<string, unknown>)[k] = flags[k];
  }
  // Go's client leaves empty maps and lists out of the JSON (omitempty); so do we.
  if (flags.Meta) file.Meta = { ...(file.Meta ?? {}), ...flags.Meta };
  if (flags.TaggedAddresses) file.TaggedAddresses = { ...(file.TaggedAddresses ?? {}), ...flags.TaggedAddresses };
  if (flags.Tags) file.Tags = [...(file.Tags ?? []), ...flags.Tags];
}

/** The `services register` command. */
export const servicesRegisterCommand: Command = {
  name: 'services register',
  synopsis: 'Register services with the local agent',
  flags: [
    { name: 'id', kind: 'string', usage: "ID of the service to register for arg-based registration. If this isn't set, it will default to the -name value." },
    { name: 'name', kind: 'string', usage: 'Name of the service to register for arg-based registration.' },
    { name: 'address', kind: 'string', usage: 'Address of the service to register for arg-based registration.' },
    { name: 'port', kind: 'int', default: 0, usage: 'Port of the service to register for arg-based registration.' },
    { name: 'socket', kind: 'string', usage: 'Path to the Unix domain socket to register for arg-based registration (conflicts with address and port).' },
    { name: 'meta', kind: 'list', usage: 'Metadata to set on the service, formatted as key=value. This flag may be specified multiple times to set multiple meta fields.' },
    { name: 'tag', kind: 'list', usage: 'Tag to add to the service. This flag can be specified multiple times to set multiple tags.' },
    { name: 'tagged-address', kind: 'list', usage: 'Tagged address to set on the service, formatted as key=value. This flag may be specified multiple times to set multiple addresses.' },
    { name: 'kind', kind: 'string', usage: "The services 'kind'" },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul services register [options] [FILE...]

  Register one or more services using the local agent API. Services can
  be registered from standard Consul configuration files (HCL or JSON) or
  using flags. The service is registered and the command returns. The caller
  must remember to call "proconsul services deregister" or a similar API to
  deregister the service when complete.

      $ proconsul services register web.json

  Additional flags and more advanced use cases are detailed below.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const fromFlags = registrationFromFlags(flags.values, this, io);
    if (!fromFlags) return 1;
    const files = flags.args;
    if (files.length === 0 && !fromFlags.Name) return out.fail('Service registration requires at least one argument or flags.');
    if (files.length > 0 && fromFlags.Name) return out.fail('Service registration requires arguments or -id, not both.');
    let svcs = [fromFlags];
    if (files.length > 0) {
      try {
        svcs = await servicesFromFiles(files);
      } catch (err) {
        return out.fail(`Error: ${(err as Error).message}`);
      }
      for (const svc of svcs) combineArgs(svc, fromFlags);
    }
    return withClient(flags, io, async (client) => {
      for (const svc of svcs) {
        await step(`Error registering service ${JSON.stringify(svc.Name ?? '')}`, () => client.agent.serviceRegister(svc));
        out.info(`Registered service: ${svc.Name ?? ''}`);
      }
      return 0;
    });
  },
};

function registrationFromFlags(v: Record<string, unknown>, cmd: Command, io: CliIO): AgentServiceRegistration | null {
  const parsed = { values: v as never, given: new Set<string>(), args: [] };
  const meta = mapFlag(parsed, cmd.flags, 'meta', io);
  const tagged = mapFlag(parsed, cmd.flags, 'tagged-address', io);
  if (!meta || !tagged) return null;
  const taggedAddresses: Record<string, ServiceAddress> = {};
  for (const [k, addr] of Object.entries(tagged)) {
    try {
      taggedAddresses[k] = parseServiceAddr(addr);
    } catch (err) {
      failUi(io).fail(`Invalid Tagged Address: ${(err as Error).message}`);
      return null;
    }
  }
  const str = (name: string): string | undefined => (v[name] ? String(v[name]) : undefined);
  const tags = v.tag as string[] | undefined;
  return {
    Kind: str('kind'), ID: str('id'), Name: str('name'), Address: str('address'), Port: Number(v.port) || undefined,
    SocketPath: str('socket'), Tags: tags?.length ? tags : undefined,
    Meta: Object.keys(meta).length ? meta : undefined,
    TaggedAddresses: Object.keys(taggedAddresses).length ? taggedAddresses : undefined,
  };
}
