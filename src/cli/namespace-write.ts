// `proconsul namespace write <file|->`: creates or updates a namespace from its full definition
// in HCL or JSON (Consul Enterprise's command/namespace/write).

import { namespaceUpdate, type Namespace } from '../api/namespaces.ts';
import { withClient } from './client-command.ts';
import { loadDataSource } from './data-source.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import {
  FORMAT_FLAG, INVALID_FORMAT, PARTITION_FLAG, formatNamespace, formatOf, namespaceFromDefinition, partitionOption, showMetaFlag,
} from './namespace.ts';

/** The `namespace write` command. */
export const namespaceWriteCommand: Command = {
  name: 'namespace write',
  synopsis: 'Create or update a Namespace from its full definition',
  flags: [FORMAT_FLAG, showMetaFlag('meta'), ...PARTITION_FLAG, ...HTTP_FLAGS],
  help: `
Usage: proconsul namespace write <namespace definition>

  The <namespace definition> must either be a file path or '-' to indicate
  that the definition should be read from stdin. The definition can be in
  either JSON or HCL format.

  Example:

    $ proconsul namespace write ns1.hcl
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length !== 1) {
      out.error(flags.args.length === 0 ? 'Must provide a namespace definition' : `Too many arguments (expected 1, got ${flags.args.length})`);
      return 1;
    }
    const format = formatOf(flags);
    if (!format) {
      out.error(INVALID_FORMAT);
      return 1;
    }
    let ns: Namespace;
    try {
      ns = namespaceFromDefinition(await loadDataSource(flags.args[0], io.stdin));
    } catch (err) {
      out.error(`Failed to decode namespace definition: ${(err as Error).message}`);
      return 1;
    }
    if (!ns.Name) {
      out.error('Namespace definition is missing its Name');
      return 1;
    }
    return withClient(flags, io, async (client) => {
      const written = await namespaceUpdate(client, ns, partitionOption(flags));
      out.info(formatNamespace(written, format, !!flags.values.meta));
      return 0;
    }, `Failed to write namespace ${ns.Name}`);
  },
};
