// `proconsul intention get SRC DST | ID`: show one intention as `consul intention get` does (a
// two-column table, meta by key, creation time in Go's RFC850, L7 permissions as indented JSON).

import { IntentionsApi, type Intention } from '../api/intentions.ts';
import type { ConsulClient } from '../api/index.ts';
import { StepFailure, withClient } from './client-command.ts';
import { columnize } from './catalog-columns.ts';
import { HTTP_FLAGS, MULTI_TENANCY_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Go's time.RFC850 (`Monday, 02-Jan-06 15:04:05 MST`) in UTC; a missing time is Go's zero time. */
export function rfc850(iso: string | undefined): string {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return 'Monday, 01-Jan-01 00:00:00 UTC';
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} `
    + `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`;
}

/** intention.GetFromArgs: by ID (one argument) or by source and destination (two), with Consul's texts. */
export async function intentionFromArgs(client: ConsulClient, args: string[]): Promise<Intention> {
  const api = new IntentionsApi(client);
  if (args.length !== 1 && args.length !== 2) throw new StepFailure('command requires exactly 1 or 2 arguments');
  let ixn: Intention | null;
  try {
    ixn = args.length === 1 ? await api.get(args[0]) : await api.getExact(args[0], args[1]);
  } catch (err) {
    throw new StepFailure(`Error reading the intention: ${(err as Error).message}`);
  }
  if (ixn) return ixn;
  throw new StepFailure(args.length === 1
    ? `Intention not found with ID ${JSON.stringify(args[0])}`
    : `Intention not found with source ${JSON.stringify(args[0])} and destination ${JSON.stringify(args[1])}`);
}

/** The table `intention get` prints. */
export function intentionTable(ixn: Intention): string {
  const part = (ns: string | undefined, n: string) => (ns && ns !== 'default' ? `${ns}/${n}` : n);
  const rows: string[][] = [['Source:', part(ixn.SourceNS, ixn.SourceName)], ['Destination:', part(ixn.DestinationNS, ixn.DestinationName)]];
  if (ixn.Action) rows.push(['Action:', ixn.Action]);
  if (ixn.ID) rows.push(['ID:', ixn.ID]);
  if (ixn.Description) rows.push(['Description:', ixn.Description]);
  for (const k of Object.keys(ixn.Meta ?? {}).sort()) rows.push([`Meta[${k}]:`, ixn.Meta![k]]);
  rows.push(['Created At:', rfc850(ixn.CreatedAt)]);
  return columnize(rows);
}

/** The `intention get` command. */
export const intentionGetCommand: Command = {
  name: 'intention get',
  synopsis: 'Show information about an intention.',
  flags: [...HTTP_FLAGS, ...MULTI_TENANCY_FLAGS],
  help: `
Usage: proconsul intention get [options] SRC DST
Usage: proconsul intention get [options] ID

  Read and show the details about an intention. The intention can be looked
  up via an exact source/destination match or via the unique intention ID.

      $ proconsul intention get web db

`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    return withClient(flags, io, async (client) => {
      const ixn = await intentionFromArgs(client, flags.args);
      out.info(intentionTable(ixn));
      if (ixn.Permissions?.length) out.info(`Permissions:\n${JSON.stringify(ixn.Permissions, null, 2)}`);
      return 0;
    });
  },
};
