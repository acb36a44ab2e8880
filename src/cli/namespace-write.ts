// `proconsul namespace write <file|->`: creates or updates a namespace from its full definition
// in HCL or JSON (Consul Enterprise's command/namespace/write).

import { namespaceUpdate } from '../api/namespaces.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import {
  FORMAT_FLAG, PARTITION_FLAG, formatNamespace, namespaceFromDefinition, partitionOption, showMetaFlag, writeCommand,
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
    return writeCommand(io, this.flags, args, 'namespace', 'meta', namespaceFromDefinition,
      (client, ns, flags) => namespaceUpdate(client, ns, partitionOption(flags)), formatNamespace);
  },
};
