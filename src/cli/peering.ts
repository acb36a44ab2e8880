// `proconsul peering`: the parent of the cluster peering subcommands (command/peering/peering.go);
// on its own it prints its help (exit 1). Also the output formats the subcommands share.

import { RUN_RESULT_HELP, type Command } from './io.ts';
import type { ParsedFlags } from './flags.ts';
import type { ConsulClient } from '../api/client.ts';
import { peeringRead, type Peering } from '../api/peering.ts';

type Out = { error(s: string): void };

/** The -format values the peering subcommands accept (Consul's GetSupportedFormats order). */
export const PEERING_FORMATS = ['json', 'pretty'];

/** The -format flag of the peering subcommands. */
export const PEERING_FORMAT_FLAG = {
  name: 'format', kind: 'string' as const, default: 'pretty', usage: 'Output format {json|pretty} (default: pretty)',
};

/** Consul's text for a -format value it does not know. */
export const INVALID_FORMAT = `Invalid format, valid formats are {${PEERING_FORMATS.join('|')}}`;

/** The required -name and the -format, checked in Consul's order; undefined once the error is printed. */
export function nameAndFormat(flags: ParsedFlags, out: Out): { name: string; format: string } | undefined {
  const name = String(flags.values.name);
  if (name === '') {
    out.error('Missing the required -name flag');
    return undefined;
  }
  const format = String(flags.values.format);
  if (!PEERING_FORMATS.includes(format)) {
    out.error(INVALID_FORMAT);
    return undefined;
  }
  return { name, format };
}

/** The named peering, or undefined once Consul's "No peering" error is printed. */
export async function readNamedPeering(client: ConsulClient, name: string, out: Out): Promise<Peering | undefined> {
  const p = await peeringRead(client, name).catch((err: Error) => {
    throw new Error(`Error reading peering: ${err.message}`);
  });
  if (!p) out.error(`No peering with name ${name} found.`);
  return p ?? undefined;
}

/** The `peering` command. */
export const peeringCommand: Command = {
  name: 'peering',
  synopsis: 'Create and manage peering connections between Consul clusters',
  flags: [],
  help: `
Usage: proconsul peering <subcommand> [options] [args]

  This command has subcommands for interacting with Cluster Peering
  connections. Here are some simple examples, and more detailed
  examples are available in the subcommands or the documentation.

  Generate a peering token:

    $ proconsul peering generate-token -name west-dc

  Establish a peering connection:

    $ proconsul peering establish -name east-dc -peering-token <token>

  List all the local peering connections:

    $ proconsul peering list

  Print the status of a peering connection:

    $ proconsul peering read -name west-dc

  Delete and close a peering connection:

    $ proconsul peering delete -name west-dc

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
