// `proconsul license inspect [<license file>]`: Consul Enterprise's command validates a licence
// (from the file, CONSUL_LICENSE or CONSUL_LICENSE_PATH) before an upgrade. Proconsul starts with
// any licence or none, so it shows the open licence it runs under, with the source it was given
// (read, so a missing file still fails) and a note that the given licence is not used.
import { readFileSync } from 'node:fs';
import { openLicense } from '../api/operator-license.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { licenseInspectText } from './license-format.ts';

/** Where the licence to inspect comes from, in Consul's order; null when none was given. */
function licenseSource(args: string[], env: NodeJS.ProcessEnv): { source: string; path?: string } | null {
  if (args.length > 0) return { source: args[0], path: args[0] };
  if (env.CONSUL_LICENSE) return { source: 'CONSUL_LICENSE environment variable' };
  const path = env.CONSUL_LICENSE_PATH;
  if (path) return { source: `${path} (path from the CONSUL_LICENSE_PATH environment variable)`, path };
  return null;
}

/** The `license inspect` command. */
export const licenseInspectCommand: Command = {
  name: 'license inspect',
  synopsis: 'Inspect a signed license',
  flags: [],
  help: `
Usage: proconsul license inspect [<license file>]

  Shows the license Proconsul runs under. Proconsul needs no license: a
  Consul Enterprise license given as a file, in CONSUL_LICENSE or through
  CONSUL_LICENSE_PATH is read but not used, and the open license is shown.

      $ proconsul license inspect
      $ proconsul license inspect consul.hclic
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const out = ui(io);
    if (flags.args.length > 1) {
      out.error(`Too many arguments (expected 0 or 1, got ${flags.args.length})`);
      return 1;
    }
    const given = licenseSource(flags.args, io.env);
    if (given?.path) {
      try {
        readFileSync(given.path);
      } catch (err) {
        out.error(`Error reading license file: ${(err as Error).message}`);
        return 1;
      }
    }
    if (given) out.error('Proconsul needs no license: the license given is not used; it runs under the open license below.');
    const { License, Valid } = openLicense();
    out.info(licenseInspectText(given?.source ?? 'built in (Proconsul needs no license)', License, Valid));
    return 0;
  },
};
