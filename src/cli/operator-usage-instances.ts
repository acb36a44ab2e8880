// `proconsul operator usage instances`: billable and mesh service instance counts as Consul's
// tables (Go tabwriter: padding 6), for this datacenter or, with -all-datacenters, every one.
import { asIs, runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { operatorUsage, type ServiceUsage } from '../api/operator-usage.ts';

/** The `operator usage instances` command. */
export const operatorUsageInstancesCommand: Command = {
  name: 'operator usage instances',
  synopsis: 'Display service instance usage information',
  flags: [
    { name: 'billable', kind: 'bool', default: false, usage: 'Display only billable service info. Cannot be used with -connect.' },
    { name: 'connect', kind: 'bool', default: false, usage: 'Display only Connect service info.Cannot be used with -billable.' },
    { name: 'all-datacenters', kind: 'bool', default: false, usage: 'Display service counts from all datacenters.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul operator usage instances [options]

  Retrieves usage information about the number of services registered in a given
  datacenter. By default, the datacenter of the local agent is queried.

  To retrieve the service usage data:

      $ proconsul operator usage instances

  To show only billable service instance counts:

      $ proconsul operator usage instances -billable

  To show only connect service instance counts:

      $ proconsul operator usage instances -connect
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      if (flags.args.length > 0) {
        out.error(`Too many arguments (expected 0, got ${flags.args.length})`);
        return 1;
      }
      const billableOnly = flags.values.billable === true;
      const connectOnly = flags.values.connect === true;
      if (billableOnly && connectOnly) {
        out.error('Cannot specify both -billable and -connect flags');
        return 1;
      }
      const all = flags.values['all-datacenters'] === true;
      const { Usage } = await operatorUsage(client, { global: all }).catch((err: Error) => {
        throw new Error(`Error fetching usage information: ${err.message}`);
      });
      out.info(usageReport(Usage, { billable: !connectOnly, connect: !billableOnly, datacenters: all }));
      return 0;
    }, asIs);
  },
};

/** The command's whole output for a usage map. */
export function usageReport(usage: Record<string, ServiceUsage>, show: { billable: boolean; connect: boolean; datacenters: boolean }): string {
  const parts: string[] = [];
  if (show.billable) {
    const dcs = Object.keys(usage);
    const total = dcs.reduce((n, dc) => n + usage[dc].BillableServiceInstances, 0);
    parts.push(`Billable Service Instances Total: ${total}`);
    parts.push(...dcs.map((dc) => `${dc} Billable Service Instances: ${usage[dc].BillableServiceInstances}`).sort());
    parts.push('\nBillable Services', `${serviceCounts(usage, true, show.datacenters)}\n`);
  }
  if (show.connect) parts.push('Connect Services', serviceCounts(usage, false, show.datacenters));
  return parts.join('\n');
}

/** One table: billable (services and instances per datacenter) or mesh (instances per kind). */
function serviceCounts(usage: Record<string, ServiceUsage>, billable: boolean, showDc: boolean): string {
  const rows: { dc: string; type: string; services: number; instances: number }[] = [];
  for (const [dc, u] of Object.entries(usage)) {
    if (billable) rows.push({ dc, type: '', services: u.Services, instances: u.BillableServiceInstances });
    else for (const [type, n] of Object.entries(u.ConnectServiceInstances ?? {})) rows.push({ dc, type, services: 0, instances: n });
  }
  rows.sort((a, b) => cmp(a.dc, b.dc) || cmp(a.type, b.type));
  const lines: string[][] = [[...(showDc ? ['Datacenter'] : []), billable ? 'Services' : 'Type', 'Service instances']];
  for (const r of rows) lines.push([...(showDc ? [r.dc] : []), billable ? String(r.services) : r.type, String(r.instances)]);
  if (showDc) {
    const services = rows.reduce((n, r) => n + r.services, 0);
    const instances = rows.reduce((n, r) => n + r.instances, 0);
    lines.push(['', '', ''], ['Total', billable ? String(services) : '', String(instances)]);
  }
  return tabwrite(lines, 6).trim();
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Go's text/tabwriter over lines of cells (every cell but the last tab-terminated): each column as wide as its widest cell plus `padding`. */
export function tabwrite(lines: string[][], padding: number): string {
  const widths: number[] = [];
  for (const line of lines) line.slice(0, -1).forEach((c, j) => { widths[j] = Math.max(widths[j] ?? 0, c.length + padding); });
  return lines.map((line) => line.map((c, j) => (j < line.length - 1 ? c.padEnd(widths[j]) : c)).join('')).join('\n') + '\n';
}
