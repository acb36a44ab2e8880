// `proconsul operator audit` (parent, prints its help) and `operator audit hash -input=…`: the
// audit log's hash of a string (POST /v1/operator/audit-hash), optionally compared with
// -hash-to-match (exit 1 when it differs). Consul Enterprise's output texts are not public; these are ours.
import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { RUN_RESULT_HELP, ui, type CliIO, type Command } from './io.ts';
import { auditHash } from '../api/operator-audit.ts';

/** The `operator audit` command. */
export const operatorAuditCommand: Command = {
  name: 'operator audit',
  synopsis: 'Interact with the audit logging subsystem',
  flags: [],
  help: `
Usage: proconsul operator audit <subcommand> [options]

  The Audit operator command is used to interact with the audit logging
  subsystem. The command can be used to calculate the audit log hash of a
  given string.

      $ proconsul operator audit hash -input="my-value"
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};

/** The `operator audit hash` command. */
export const operatorAuditHashCommand: Command = {
  name: 'operator audit hash',
  synopsis: 'Computes the audit hash of a string',
  flags: [
    { name: 'input', kind: 'string', usage: 'Specifies the input string to hash. This flag is required.' },
    { name: 'hash-to-match', kind: 'string', usage: "Optional. If specified, the command outputs whether this value matches the computed hash of the 'input' value. Should be in the format: hmac_sha256:xxxx" },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul operator audit hash -input INPUT [options]

  Computes the audit hash of a string. Can optionally compare the computed
  hash to a specified hash.

      $ proconsul operator audit hash -input="my-value"
      $ proconsul operator audit hash -input="my-value" -hash-to-match="hmac_sha256:37ed9ed..."
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      if (!flags.given.has('input')) {
        out.error('Missing required -input flag');
        return 1;
      }
      const hash = await auditHash(client, String(flags.values.input));
      if (!flags.given.has('hash-to-match')) {
        out.info(hash);
        return 0;
      }
      const match = String(flags.values['hash-to-match']) === hash;
      out.info(match ? `Hash matches: ${hash}` : `Hash does not match: computed ${hash}`);
      return match ? 0 : 1;
    }, 'Error computing audit hash');
  },
};
