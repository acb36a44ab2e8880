// `proconsul tls cert renew`: a new certificate for an existing key (-existingkey), signed by the
// agent TLS CA and saved, as Consul's command does, under the first free <dc>-<kind>-<domain>-<n>.pem.
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { signPlanned } from './tls-cert-create.ts';
import { CERT_FLAGS, certPlan } from './tls-cert-plan.ts';
import { writeAtomicWithPerms } from './tls-files.ts';

/** The `tls cert renew` command. */
export const tlsCertRenewCommand: Command = {
  name: 'tls cert renew',
  synopsis: 'Renew a existing certificate',
  flags: [
    ...CERT_FLAGS.slice(0, 2),
    { name: 'existingkey', kind: 'string', default: '', usage: 'Provide path to the existing key like #DOMAIN#-agent-#-key.pem.' },
    ...CERT_FLAGS.slice(2),
  ],
  help: `
Usage: proconsul tls cert renew [options]

  Renew existing certificate

  $ proconsul tls cert renew -server -existingkey dc1-server-consul-0-key.pem
  ==> WARNING: Server Certificates grants authority to become a
      server and access all state in the cluster including root keys
      and all ACL tokens. Do not distribute them to production hosts
      that are not server nodes. Store them as securely as CA keys.
  ==> Using consul-agent-ca.pem and consul-agent-ca-key.pem
  ==> Saved dc1-server-consul-1.pem
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    try {
      // Consul checks the kind flags before the existing key.
      const existing = String(flags.values.existingkey);
      const plan = certPlan(flags, io);
      if (existing === '') throw new Error('Please provide the existingkey like #DOMAIN#-agent-#-key.pem.');
      const cert = await signPlanned(io, plan, existing);
      writeAtomicWithPerms(io, plan.certFileName, cert.certPem, 0o666);
      out.info(`==> Saved ${plan.certFileName}`);
      return 0;
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    }
  },
};
