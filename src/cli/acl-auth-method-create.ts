// `proconsul acl auth-method create`: a new auth method from flags and a JSON -config (literal,
// @file or - for stdin), or the kubernetes-* flags, printed as Consul's formatter does.
import type { ACLTokenLocality } from '../acl/types.ts';
import type { ACLAuthMethodInput } from '../api/index.ts';
import { parseGoDuration } from '../duration.ts';
import { formatAuthMethod } from './acl-auth-format.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl, type AclRun } from './acl-flags.ts';
import { asIs } from './client-command.ts';
import { loadDataSource } from './catalog-flags.ts';
import type { FlagDef } from './flags.ts';
import type { CliIO, Command } from './io.ts';

/** The kubernetes-* flags shared with `acl auth-method update`. */
export const K8S_FLAGS: FlagDef[] = [
  { name: 'kubernetes-host', kind: 'string', usage: 'Address of the Kubernetes API server. This flag is required for type=kubernetes.' },
  { name: 'kubernetes-ca-cert', kind: 'string', usage: 'PEM encoded CA cert for use by the TLS client used to talk with the Kubernetes API. May be prefixed with \'@\' to indicate that the value is a file path to load the cert from. This flag is required for type=kubernetes.' },
  { name: 'kubernetes-service-account-jwt', kind: 'string', usage: 'A Kubernetes service account JWT used to access the TokenReview API to validate other JWTs during login. This flag is required for type=kubernetes.' },
];

/** Reads -config as a JSON object; throws Consul's message. */
export async function configFlag(r: AclRun, io: CliIO, parseWhat: string): Promise<Record<string, unknown>> {
  let data: string;
  try {
    data = await loadDataSource(r.str('config'), io.stdin);
  } catch (err) {
    throw new Error(`Error loading configuration file: ${(err as Error).message}`);
  }
  try {
    const v = JSON.parse(data) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${parseWhat}: ${(err as Error).message}`);
  }
}

/** The kubernetes Config from the kubernetes-* flags (all required); throws Consul's message. */
export async function k8sConfig(r: AclRun, io: CliIO): Promise<Record<string, unknown>> {
  for (const f of ['kubernetes-host', 'kubernetes-ca-cert', 'kubernetes-service-account-jwt']) {
    if (r.str(f) === '') throw new Error(`Missing required '-${f}' flag`);
  }
  return { Host: r.str('kubernetes-host'), CACert: await k8sCACert(r, io), ServiceAccountJWT: r.str('kubernetes-service-account-jwt') };
}

/** The -kubernetes-ca-cert value (literal, @file or -); throws Consul's message. */
export async function k8sCACert(r: AclRun, io: CliIO): Promise<string> {
  let ca: string;
  try {
    ca = await loadDataSource(r.str('kubernetes-ca-cert'), io.stdin);
  } catch (err) {
    throw new Error(`Invalid '-kubernetes-ca-cert' value: ${(err as Error).message}`);
  }
  if (ca === '') throw new Error('Kubernetes CA Cert is empty');
  return ca;
}

async function methodFromFlags(r: AclRun, io: CliIO): Promise<ACLAuthMethodInput> {
  const m: ACLAuthMethodInput = {
    Type: r.str('type'), Name: r.str('name'), DisplayName: r.str('display-name') || undefined, Description: r.str('description'),
    TokenLocality: (r.str('token-locality') || undefined) as ACLTokenLocality | undefined,
  };
  const ttl = r.str('max-token-ttl');
  if (ttl !== '' && ttl !== '0') {
    if (parseGoDuration(ttl) === null) throw new Error(`invalid value "${ttl}" for flag -max-token-ttl: parse error`);
    m.MaxTokenTTL = ttl;
  }
  const k8s = K8S_FLAGS.some((f) => r.str(f.name) !== '');
  if (r.str('config') !== '') {
    if (k8s) throw new Error('Cannot use command line arguments with \'-config\' flags');
    m.Config = await configFlag(r, io, 'Error parsing JSON configuration file');
  }
  if (m.Type === 'kubernetes') m.Config = await k8sConfig(r, io);
  return m;
}

/** The `acl auth-method create` command. */
export const aclAuthMethodCreateCommand: Command = {
  name: 'acl auth-method create',
  synopsis: 'Create an ACL auth method',
  flags: [
    { name: 'type', kind: 'string', usage: 'The new auth method\'s type. This flag is required.' },
    { name: 'name', kind: 'string', usage: 'The new auth method\'s name. This flag is required.' },
    { name: 'display-name', kind: 'string', usage: 'An optional name to use instead of the name when displaying this auth method in a UI.' },
    { name: 'description', kind: 'string', usage: 'A description of the auth method.' },
    { name: 'max-token-ttl', kind: 'string', usage: 'Duration of time all tokens created by this auth method should be valid for' },
    { name: 'token-locality', kind: 'string', usage: 'Defines the kind of token that this auth method should produce. This can be either \'local\' or \'global\'. If empty the value of \'local\' is assumed.' },
    { name: 'config', kind: 'string', usage: 'The configuration for the auth method. Must be JSON. May be prefixed with \'@\' to indicate that the value is a file path to load the config from. \'-\' may also be given to indicate that the config is available on stdin' },
    ...K8S_FLAGS, ...outputFlags('auth method'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl auth-method create -name NAME -type TYPE [options]

  Create a new auth method:

    $ proconsul acl auth-method create -type "kubernetes" \\
                            -name "my-k8s" \\
                            -description "This is an example kube method" \\
                            -kubernetes-host "https://apiserver.example.com:8443" \\
                            -kubernetes-ca-cert @/path/to/kube.ca.crt \\
                            -kubernetes-service-account-jwt "JWT_CONTENTS"

  Single sign-on through an OIDC provider (Config fields as Consul's oidc method):

    $ proconsul acl auth-method create -type oidc -name sso -max-token-ttl 8h -config @oidc.json
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.str('type') === '') return r.fail('Missing required \'-type\' flag');
      if (r.str('name') === '') return r.fail('Missing required \'-name\' flag');
      const m = await r.or(asIs, () => methodFromFlags(r, io));
      r.info(await r.or('Failed to create new auth method', async () => formatAuthMethod((await r.client.acl.authMethodCreate(m)).data, r.format, r.meta)));
      return 0;
    });
  },
};
