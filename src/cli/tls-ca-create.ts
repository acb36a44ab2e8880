// `proconsul tls ca create`: a new agent TLS CA written to <domain>-agent-ca.pem and
// <domain>-agent-ca-key.pem in the working directory, refusing to overwrite either.
import { generateCA } from '../agent/tls-generate.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { fileDoesNotExist, writeAtomicWithPerms } from './tls-files.ts';

/** The `tls ca create` command. */
export const tlsCaCreateCommand: Command = {
  name: 'tls ca create',
  synopsis: 'Create a new consul CA',
  flags: [
    { name: 'days', kind: 'int', default: 1825, usage: 'Number of days the CA is valid for. Defaults to 1825 days (approximately 5 years).' },
    { name: 'name-constraint', kind: 'bool', usage: "Enables X.509 name constraints for the CA. If used, the CA only signs certificates for localhost and the domains specified by -domain and -additional-name-constraint. If Consul's UI is served over HTTPS in your deployment, add its DNS name with -additional-constraint. Defaults to false." },
    { name: 'domain', kind: 'string', default: 'consul', usage: 'The DNS domain of the Consul cluster that agents are configured with. Defaults to consul. Only used when -name-constraint is set. Additional domains can be passed with -additional-name-constraint.' },
    { name: 'cluster-id', kind: 'string', default: '', usage: "ID of the Consul cluster. Sets the CA's URI with the SPIFFEID composed of the cluster ID and domain  (specified by -domain or 'consul' by default)." },
    { name: 'common-name', kind: 'string', default: '', usage: 'Common Name of CA. Defaults to Consul Agent CA.' },
    { name: 'additional-name-constraint', kind: 'list', usage: 'Add name constraints for the CA. Results in rejecting certificates for other DNS than specified. Can be used multiple times. Only used in combination with -name-constraint.' },
  ],
  help: `
Usage: proconsul tls ca create [options]

  Create a new consul CA:

  $ proconsul tls ca create
  ==> saved consul-agent-ca.pem
  ==> saved consul-agent-ca-key.pem
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const domain = String(flags.values.domain);
    const certFileName = `${domain}-agent-ca.pem`;
    const pkFileName = `${domain}-agent-ca-key.pem`;
    for (const f of [certFileName, pkFileName]) {
      if (!fileDoesNotExist(io, f)) {
        out.error(`${f} already exists.`);
        return 1;
      }
    }
    // Consul appends the domain and localhost after the additional constraints.
    const constraints = flags.values['name-constraint'] === true
      ? [...((flags.values['additional-name-constraint'] as string[] | undefined) ?? []), domain, 'localhost'] : [];
    try {
      const ca = generateCA({
        name: String(flags.values['common-name']), days: Number(flags.values.days), domain,
        permittedDnsDomains: constraints, clusterId: String(flags.values['cluster-id']), nowMs: Date.now(),
      });
      writeAtomicWithPerms(io, certFileName, ca.certPem, 0o666);
      out.info(`==> Saved ${certFileName}`);
      writeAtomicWithPerms(io, pkFileName, ca.keyPem, 0o600);
      out.info(`==> Saved ${pkFileName}`);
      return 0;
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    }
  },
};
