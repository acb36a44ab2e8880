// `proconsul tls cert create`: a server, client or CLI certificate and key signed by the agent
// TLS CA, saved as <dc>-<kind>-<domain>-<n>.pem and -<n>-key.pem with the first free <n>.
import { readFile } from 'node:fs/promises';
import { goFileError } from '../api/errors.ts';
import { generateCert, verifyCert } from '../agent/tls-generate.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { CERT_FLAGS, certPlan, SERVER_WARNING, type CertPlan } from './tls-cert-plan.ts';
import { inCwd, writeAtomicWithPerms } from './tls-files.ts';

/** Reads a file of the command (relative to its directory) or throws `<what>: <Go's error>`. */
export async function readCommandFile(io: CliIO, name: string, what: string): Promise<string> {
  try {
    return await readFile(inCwd(io, name), 'utf8');
  } catch (err) {
    throw new Error(`${what}: ${goFileError(err as NodeJS.ErrnoException, name)}`, { cause: err });
  }
}

/** Signs the plan's certificate (with a new key, or `existingKeyPem`'s) and verifies it as Consul does before saving. */
export async function signPlanned(io: CliIO, plan: CertPlan, existingKeyPem?: string): Promise<{ certPem: string; keyPem: string }> {
  const out = ui(io);
  const caPem = await readCommandFile(io, plan.caFile, 'Error reading CA');
  const signerPem = await readCommandFile(io, plan.keyFile, 'Error reading CA key');
  const existing = existingKeyPem === undefined ? undefined : await readCommandFile(io, existingKeyPem, 'Error reading existing key');
  if (plan.server) out.info(SERVER_WARNING);
  out.info(`==> Using ${plan.caFile} and ${plan.keyFile}`);
  const nowMs = Date.now();
  const cert = generateCert({
    caPem, signerPem, name: plan.name, days: plan.days, dnsNames: plan.dnsNames, ipAddresses: plan.ipAddresses,
    extKeyUsage: plan.extKeyUsage, nowMs, existingKeyPem: existing,
  });
  verifyCert(caPem, cert.certPem, plan.name, nowMs);
  return cert;
}

/** The `tls cert create` command. */
export const tlsCertCreateCommand: Command = {
  name: 'tls cert create',
  synopsis: 'Create a new certificate',
  flags: CERT_FLAGS,
  help: `
Usage: proconsul tls cert create [options]

  Create a new certificate

  $ proconsul tls cert create -server
  ==> WARNING: Server Certificates grants authority to become a
      server and access all state in the cluster including root keys
      and all ACL tokens. Do not distribute them to production hosts
      that are not server nodes. Store them as securely as CA keys.
  ==> Using consul-agent-ca.pem and consul-agent-ca-key.pem
  ==> Saved dc1-server-consul-0.pem
  ==> Saved dc1-server-consul-0-key.pem
  $ proconsul tls cert create -client
  ==> Using consul-agent-ca.pem and consul-agent-ca-key.pem
  ==> Saved dc1-client-consul-0.pem
  ==> Saved dc1-client-consul-0-key.pem
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    try {
      const plan = certPlan(flags, io);
      const cert = await signPlanned(io, plan);
      writeAtomicWithPerms(io, plan.certFileName, cert.certPem, 0o666);
      out.info(`==> Saved ${plan.certFileName}`);
      writeAtomicWithPerms(io, plan.pkFileName, cert.keyPem, 0o600);
      out.info(`==> Saved ${plan.pkFileName}`);
      return 0;
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    }
  },
};
