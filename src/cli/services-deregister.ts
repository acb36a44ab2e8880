// `proconsul services deregister`: remove services from the local agent, by -id or by the
// definitions in configuration files (ID, else Name), as `consul services deregister`: always in
// the -namespace/-partition (or CONSUL_NAMESPACE/CONSUL_PARTITION) tenancy, whatever a file names.

import { step, withClient } from './client-command.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';
import { servicesFromFiles } from './services-config.ts';
import type { AgentServiceRegistration } from '../api/index.ts';

/** The `services deregister` command. */
export const servicesDeregisterCommand: Command = {
  name: 'services deregister',
  synopsis: 'Deregister services with the local agent',
  flags: [
    { name: 'id', kind: 'string', usage: 'ID to delete. This must not be set if arguments are given.' },
    ...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS,
  ],
  help: `
Usage: proconsul services deregister [options] [FILE...]

  Deregister one or more services that were previously registered with
  the local agent.

      $ proconsul services deregister web.json db.json

  The -id flag may be used to deregister a single service by ID:

      $ proconsul services deregister -id=web

  Services are deregistered from the local agent catalog. This command must
  be run against the same agent where the service was registered.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const id = String(flags.values.id ?? '');
    const files = flags.args;
    if (files.length === 0 && !id) return out.fail('Service deregistration requires at least one argument or -id.');
    if (files.length > 0 && id) return out.fail('Service deregistration requires arguments or -id, not both.');
    let svcs: AgentServiceRegistration[] = [{ ID: id }];
    if (files.length > 0) {
      try {
        svcs = await servicesFromFiles(files);
      } catch (err) {
        return out.fail(`Error: ${(err as Error).message}`);
      }
    }
    return withClient(flags, io, async (client) => {
      for (const svc of svcs) {
        const target = svc.ID || svc.Name;
        if (!target) continue;
        // Consul's command calls plain ServiceDeregister(id): a file's Namespace/Partition are not
        // used, only the client's (flags over the variables).
        await step(`Error deregistering service ${JSON.stringify(svc.Name ?? '')}`, () => client.agent.serviceDeregister(target));
        out.info(`Deregistered service: ${target}`);
      }
      return 0;
    });
  },
};
