// `proconsul acl bootstrap`: creates the initial management token and prints it.
import { formatToken } from './acl-format.ts';
import { outputFlags, runAcl } from './acl-flags.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `acl bootstrap` command. */
export const aclBootstrapCommand: Command = {
  name: 'acl bootstrap',
  synopsis: 'Bootstrap Consul\'s ACL system',
  flags: [...outputFlags('token').filter((f) => f.name === 'format'), ...HTTP_FLAGS],
  help: `
Usage: proconsul acl bootstrap [options]

  The bootstrap command will request Consul to generate a new token with unlimited privileges to use
  for management purposes and output its details. This can only be done once and afterwards bootstrapping
  will be disabled. If all tokens are lost and you need to bootstrap again you can follow the bootstrap
  reset procedure.

      $ proconsul acl bootstrap
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.flags.args.length > 0) return r.fail(`Too many arguments (expected 0, got ${r.flags.args.length})`);
      try {
        const t = (await r.client.acl.bootstrap()).data;
        r.info(formatToken(t, r.format, false));
        return 0;
      } catch (err) {
        return r.fail(`Failed ACL bootstrapping: ${(err as Error).message}`);
      }
    });
  },
};
