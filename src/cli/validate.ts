// `proconsul validate`: loads config files and directories exactly as `agent` would and reports
// whether they are valid (Consul's command/validate).
import { ConfigError, loadConfig, type LoadOptions } from '../agent/config/index.ts';
import { FlagError, parseFlags, type FlagDef } from './flags.ts';

/** The output side of a CLI command. */
export interface CommandIO {
  stdout(s: string): void;
  stderr(s: string): void;
  env: NodeJS.ProcessEnv;
}

const flags: FlagDef[] = [
  { name: 'config-format', kind: 'string', usage: "Config files are in this format irrespective of their extension. Must be 'hcl' or 'json'", default: '' },
  { name: 'quiet', kind: 'bool', usage: 'When given, a successful run will produce no output.', default: false },
];

const help = `Usage: proconsul validate [options] FILE_OR_DIRECTORY...

  Performs a thorough sanity test on Consul configuration files. For each file
  or directory given, the validate command will attempt to parse the contents
  just as the "proconsul agent" command would, and catch any errors.

  This is useful to do a test of the configuration only, without actually
  starting the agent. This performs all of the validation the agent would, so
  this should be given the complete set of configuration files that are going
  to be loaded by the agent. This command cannot operate on partial
  configuration fragments since those won't pass the full agent validation.

  Returns 0 if the configuration is valid, or 1 if there are problems.

Command Options:

  -config-format=<string>
     Config files are in this format irrespective of their extension. Must be
     'hcl' or 'json'

  -quiet
     When given, a successful run will produce no output.

Examples:

  $ proconsul validate /etc/consul.d
  $ proconsul validate -quiet server.hcl acl.json
  $ proconsul validate -config-format=hcl consul.conf
`;

async function run(args: string[], io: CommandIO, deps: ValidateDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(flags, args);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
  const paths = parsed.args;
  if (paths.length < 1) {
    io.stderr('Must specify at least one config file or directory\n');
    return 1;
  }
  const format = parsed.values['config-format'] as string;
  if (format !== '' && format !== 'json' && format !== 'hcl') {
    io.stderr("-config-format must be either 'hcl' or 'json\n");
    return 1;
  }
  const agentArgs = [...(format ? [`-config-format=${format}`] : []), ...paths.map((p) => `-config-file=${p}`)];
  try {
    const { warnings } = await loadConfig({ args: agentArgs, env: io.env, readOnly: true, interfaces: deps.interfaces });
    if (parsed.values.quiet !== true) {
      for (const w of warnings) io.stderr(`${w}\n`);
      io.stdout('Configuration is valid!\n');
    }
    return 0;
  } catch (err) {
    // Any failure to read or accept the files is a validation failure, as in Consul.
    const message = err instanceof ConfigError || err instanceof FlagError ? err.message : (err as Error).message;
    io.stderr(`Config validation failed: ${message}\n`);
    return 1;
  }
}

/** Host facts the command reads; tests pass fakes. */
export interface ValidateDeps {
  interfaces?: LoadOptions['interfaces'];
}

/** Builds the `validate` command with its dependencies. */
export function createValidateCommand(deps: ValidateDeps = {}) {
  return {
    name: 'validate',
    synopsis: 'Validate config files/directories',
    help,
    flags,
    run: (args: string[], io: CommandIO): Promise<number> => run(args, io, deps),
  };
}

/** The `validate` command on the real host. */
export const validateCommand = createValidateCommand();

export default validateCommand;
