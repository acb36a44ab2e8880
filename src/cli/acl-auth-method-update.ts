// `proconsul acl auth-method update`: changes an auth method by -name, merged with its current
// state unless -no-merge (then only Name and Type are kept); -config replaces Config as a whole.
import type { ACLTokenLocality } from '../acl/types.ts';
import type { ACLAuthMethodInput } from '../api/index.ts';
import { parseGoDuration } from '../duration.ts';
import { formatAuthMethod } from './acl-auth-format.ts';
import { configFlag, k8sCACert, k8sConfig, K8S_FLAGS } from './acl-auth-method-create.ts';
import { ACL_HTTP_FLAGS, outputFlags, runAcl, type AclRun } from './acl-flags.ts';
import { asIs, missingOr } from './client-command.ts';
import type { CliIO, Command } from './io.ts';

function scalarFields(r: AclRun, m: ACLAuthMethodInput): void {
  if (r.str('description') !== '') m.Description = r.str('description');
  if (r.str('display-name') !== '') m.DisplayName = r.str('display-name');
  if (r.str('token-locality') !== '') m.TokenLocality = r.str('token-locality') as ACLTokenLocality;
  const ttl = r.str('max-token-ttl');
  if (ttl !== '') {
    if (parseGoDuration(ttl) === null) throw new Error(`invalid value "${ttl}" for flag -max-token-ttl: parse error`);
    m.MaxTokenTTL = ttl;
  }
}

async function updated(r: AclRun, io: CliIO, current: ACLAuthMethodInput): Promise<ACLAuthMethodInput> {
  const merge = r.flags.values['no-merge'] !== true;
  const m: ACLAuthMethodInput = merge ? { ...current } : { Name: current.Name, Type: current.Type, Description: r.str('description') };
  scalarFields(r, m);
  const k8sFlags = K8S_FLAGS.filter((f) => r.str(f.name) !== '');
  if (r.str('config') !== '') {
    if (k8sFlags.length) throw new Error('Cannot use command line arguments with \'-config\' flag');
    m.Config = await configFlag(r, io, 'Error parsing JSON for auth method config');
  }
  if (current.Type !== 'kubernetes') return m;
  if (!merge) return { ...m, Config: await k8sConfig(r, io) };
  const cfg = { ...(m.Config ?? {}) };
  if (r.str('kubernetes-host') !== '') cfg.Host = r.str('kubernetes-host');
  if (r.str('kubernetes-ca-cert') !== '') cfg.CACert = await k8sCACert(r, io);
  if (r.str('kubernetes-service-account-jwt') !== '') cfg.ServiceAccountJWT = r.str('kubernetes-service-account-jwt');
  return { ...m, Config: cfg };
}

/** The `acl auth-method update` command. */
export const aclAuthMethodUpdateCommand: Command = {
  name: 'acl auth-method update',
  synopsis: 'Update an ACL auth method',
  flags: [
    { name: 'name', kind: 'string', usage: 'The auth method name.' },
    { name: 'display-name', kind: 'string', usage: 'An optional name to use instead of the name when displaying this auth method in a UI.' },
    { name: 'description', kind: 'string', usage: 'A description of the auth method.' },
    { name: 'max-token-ttl', kind: 'string', usage: 'Duration of time all tokens created by this auth method should be valid for' },
    { name: 'token-locality', kind: 'string', usage: 'Defines the kind of token that this auth method should produce. This can be either \'local\' or \'global\'.' },
    { name: 'config', kind: 'string', usage: 'The configuration for the auth method. Must be JSON. The config is updated as one field. May be prefixed with \'@\' to indicate that the value is a file path to load the config from. \'-\' may also be given to indicate that the config is available on stdin.' },
    ...K8S_FLAGS,
    { name: 'no-merge', kind: 'bool', usage: 'Do not merge the current auth method information with what is provided to the command. Instead overwrite all fields with the exception of the name which is immutable.' },
    ...outputFlags('auth method'), ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul acl auth-method update -name NAME [options]

  Updates an auth method. By default it will merge the auth method
  information with its current state so that you do not have to provide all
  parameters. This behavior can be disabled by passing -no-merge.

  Update all editable fields of the auth method:

    $ proconsul acl auth-method update -name "my-k8s" \\
                            -description "new description" \\
                            -kubernetes-host "https://new-apiserver.example.com:8443" \\
                            -kubernetes-ca-cert @/path/to/new-kube.ca.crt \\
                            -kubernetes-service-account-jwt "NEW_JWT_CONTENTS"
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const name = r.str('name');
      if (name === '') return r.fail('Cannot update an auth method without specifying the -name parameter');
      const failed = missingOr(`Auth method not found with name ${JSON.stringify(name)}`, 'Error when retrieving current auth method');
      const current: ACLAuthMethodInput = (await r.or(failed, () => r.client.acl.authMethodRead(name))).data;
      const m = await r.or(asIs, () => updated(r, io, current));
      r.info(await r.or(`Error updating auth method ${JSON.stringify(name)}`, async () =>
        formatAuthMethod((await r.client.acl.authMethodUpdate(m)).data, r.format, r.meta)));
      return 0;
    });
  },
};
