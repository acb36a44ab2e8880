// `proconsul keygen`: prints a new random 32-byte gossip encryption key, base64 encoded.

import { generateKey } from '../gossip/index.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';

/** The `keygen` command. */
export const keygenCommand: Command = {
  name: 'keygen',
  synopsis: 'Generates a new encryption key',
  flags: [],
  help: `
Usage: proconsul keygen

  Generates a new 32-byte encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.

      $ proconsul keygen
`,
  async run(args: string[], io: CliIO): Promise<number> {
    if (!parseCommandFlags(this.flags, args, io)) return 1;
    ui(io).info(generateKey());
    return 0;
  },
};
