// `proconsul logout`: destroys the token given with -token / CONSUL_HTTP_TOKEN when an auth
// method created it (the companion of `proconsul login`).
import { runAcl } from './acl-flags.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';

/** The `logout` command. */
export const logoutCommand: Command = {
  name: 'logout',
  synopsis: 'Destroy a Consul token created with login',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul logout [options]

  The logout command will destroy the provided token if it was created from
  'proconsul login'.

      $ proconsul logout -token-file=consul.token
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.flags.args.length > 0) return r.fail('Should have no non-flag arguments.');
      try {
        await r.client.acl.logout();
        return 0;
      } catch (err) {
        return r.fail(`Error destroying token: ${(err as Error).message}`);
      }
    });
  },
};
