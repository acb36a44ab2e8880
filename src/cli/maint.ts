// `proconsul maint`: enable or disable node or service maintenance mode on the local agent,
// or, without -enable/-disable, list what is in maintenance in Consul's format.

import type { AgentCheck, ConsulClient } from '../api/index.ts';
import { step, withClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';

const NODE_MAINT = '_node_maintenance';
const SERVICE_MAINT_PREFIX = '_service_maintenance:';

/** Consul's list mode: a `Node:` or `Service:` block per maintenance check, each followed by a blank line. */
export function maintenanceList(nodeName: string, checks: AgentCheck[]): string[] {
  const lines: string[] = [];
  const sorted = [...checks].sort((a, b) => (a.CheckID < b.CheckID ? -1 : a.CheckID > b.CheckID ? 1 : 0));
  for (const check of sorted) {
    if (check.CheckID === NODE_MAINT) lines.push('Node:', `  Name:   ${nodeName}`, `  Reason: ${check.Notes}`, '');
    else if (check.CheckID.startsWith(SERVICE_MAINT_PREFIX)) lines.push('Service:', `  ID:     ${check.ServiceID}`, `  Reason: ${check.Notes}`, '');
  }
  return lines;
}

/** The `maint` command. */
export const maintCommand: Command = {
  name: 'maint',
  synopsis: 'Controls node or service maintenance mode',
  flags: [
    ...HTTP_CLIENT_FLAGS,
    { name: 'enable', kind: 'bool', usage: 'Enable maintenance mode.' },
    { name: 'disable', kind: 'bool', usage: 'Disable maintenance mode.' },
    { name: 'reason', kind: 'string', usage: 'Text describing the maintenance reason.' },
    { name: 'service', kind: 'string', usage: 'Control maintenance mode for a specific service ID.' },
  ],
  help: `
Usage: proconsul maint [options]

  Places a node or service into maintenance mode. During maintenance mode,
  the node or service will be excluded from all queries through the DNS
  or API interfaces, effectively taking it out of the pool of available
  nodes. This is done by registering an additional critical health check.

  When enabling maintenance mode for a node or service, you may optionally
  specify a reason string. This string will appear in the "Notes" field
  of the critical health check which is registered against the node or
  service. If no reason is provided, a default value will be used.

  Maintenance mode is persistent, and will be restored in the event of an
  agent restart. It is therefore required to disable maintenance mode on
  a given node or service before it will be placed back into the pool.

  By default, we operate on the node as a whole. By specifying the
  "-service" argument, this behavior can be changed to enable or disable
  only a specific service.

  If no arguments are given, the agent's maintenance status will be shown.
  This will return blank if nothing is currently under maintenance.

      $ proconsul maint -enable -reason="kernel upgrade"
      $ proconsul maint -enable -service=web
      $ proconsul maint -disable
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const enable = flags.values.enable === true;
    const disable = flags.values.disable === true;
    const reason = String(flags.values.reason ?? '');
    const service = String(flags.values.service ?? '');
    if (enable && disable) return out.fail('Only one of -enable or -disable may be provided');
    if (!enable && reason) return out.fail('Reason may only be provided with -enable');
    if (!enable && !disable && service) return out.fail('Service requires either -enable or -disable');
    return withClient(flags, io, async (client) => {
      const nodeName = await step('Error querying Consul agent', () => client.agent.nodeName());
      if (!enable && !disable) return await list(client, nodeName, out);
      return await toggle(client, enable, service, reason, out);
    });
  },
};

async function list(client: ConsulClient, nodeName: string, out: ReturnType<typeof failUi>): Promise<number> {
  let checks: Record<string, AgentCheck>;
  try {
    checks = (await client.agent.checks()).data ?? {};
  } catch (err) {
    return out.fail(`Error getting checks: ${(err as Error).message}`);
  }
  for (const line of maintenanceList(nodeName, Object.values(checks))) out.info(line);
  return 0;
}

async function toggle(client: ConsulClient, enable: boolean, service: string, reason: string, out: ReturnType<typeof failUi>): Promise<number> {
  const verb = enable ? 'enabl' : 'disabl';
  const what = service ? 'service' : 'node';
  try {
    if (service) {
      if (enable) await client.agent.enableServiceMaintenance(service, reason);
      else await client.agent.disableServiceMaintenance(service);
    } else if (enable) await client.agent.enableNodeMaintenance(reason);
    else await client.agent.disableNodeMaintenance();
  } catch (err) {
    return out.fail(`Error ${verb}ing ${what} maintenance: ${(err as Error).message}`);
  }
  out.info(service ? `Service maintenance is now ${verb}ed for ${JSON.stringify(service)}` : `Node maintenance is now ${verb}ed`);
  return 0;
}
