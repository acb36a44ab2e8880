// `proconsul acl set-agent-token TYPE TOKEN`: sets one of the agent's runtime ACL tokens
// through /v1/agent/token/:type; TOKEN may be @file or - (stdin).
import { runAcl } from './acl-flags.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { loadDataSource } from './catalog-flags.ts';
import type { CliIO, Command } from './io.ts';

// Consul's names, each mapped to the /v1/agent/token path it calls.
const TYPES: Record<string, string> = {
  default: 'default', agent: 'agent', recovery: 'agent_recovery', agent_recovery: 'agent_recovery', master: 'agent_master',
  replication: 'replication', config_file_service_registration: 'config_file_service_registration', dns: 'dns',
};

function argsError(args: string[]): string | undefined {
  if (args.length === 0) return 'Missing TYPE and TOKEN arguments';
  if (args.length === 1) return ['default', 'agent', 'recovery', 'replication'].includes(args[0]) ? 'Missing TOKEN argument' : 'MISSING TYPE argument';
  if (args.length > 2) return `Too many arguments, expected 2 got ${args.length}`;
  return undefined;
}

/** The `acl set-agent-token` command. */
export const aclSetAgentTokenCommand: Command = {
  name: 'acl set-agent-token',
  synopsis: 'Assign tokens for the Consul Agent\'s usage',
  flags: [...HTTP_FLAGS],
  help: `
Usage: proconsul acl set-agent-token [options] TYPE TOKEN

  This command will set the corresponding token for the agent to use. If token
  persistence is not enabled, then tokens uploaded this way are not persisted
  and if the agent reloads then the tokens will need to be set again.

  Token Types:

    default                           The default token is the token that the agent will use for
                                      both internal agent operations and operations initiated by
                                      the HTTP and DNS interfaces when no specific token is provided.
    agent                             The token that the agent will use for internal agent operations.
    recovery                          The token that can be used to access the Agent APIs in the
                                      event that the ACL datacenter cannot be reached.
    replication                       The token that the servers will use to replicate ACL data.
    config_file_service_registration  The token used to register services and checks defined in
                                      config files.
    dns                               The token used by the DNS server to answer queries.

      $ proconsul acl set-agent-token default c4d0f8df-3aba-4ab6-a7a0-35b760dc29a1
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const problem = argsError(r.flags.args);
      if (problem) return r.fail(`Error! ${problem}`);
      const [type, raw] = r.flags.args;
      const path = TYPES[type];
      if (!path) return r.fail('Unknown token type');
      try {
        await r.client.acl.setAgentToken(path, await loadDataSource(raw, io.stdin));
      } catch (err) {
        return r.fail(`Failed to set ACL token ${JSON.stringify(type)}: ${(err as Error).message}`);
      }
      r.info(`ACL token ${JSON.stringify(type)} set successfully`);
      return 0;
    });
  },
};
