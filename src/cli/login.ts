// `proconsul login`: exchanges a bearer token (from -bearer-token-file) for a Consul token through
// an auth method, or with -type=oidc runs the browser login (login-oidc.ts), and writes the
// token's SecretID to -token-sink-file, as `consul login` does (OIDC is Enterprise-only there).
import { readFile, writeFile } from 'node:fs/promises';
import type { ACLToken } from '../acl/types.ts';
import { ACL_HTTP_FLAGS, listFlag, runAcl, type AclRun } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';
import { oidcLogin } from './login-oidc.ts';

function metaFlag(raw: string[]): Record<string, string> {
  return Object.fromEntries(raw.map((kv) => {
    const eq = kv.indexOf('=');
    return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
}

// The bearer-token path: the token from -bearer-token-file, exchanged at /v1/acl/login.
async function bearerLogin(r: AclRun, method: string): Promise<ACLToken | number> {
  const file = r.str('bearer-token-file');
  if (file === '') return r.fail('Missing required \'-bearer-token-file\' flag');
  let bearer: string;
  try {
    bearer = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    return r.fail(`Error reading bearer token file: ${(err as Error).message}`);
  }
  if (bearer === '') return r.fail(`No bearer token found in ${file}`);
  try {
    return (await r.client.acl.login({ AuthMethod: method, BearerToken: bearer, Meta: metaFlag(r.list('meta')) })).data;
  } catch (err) {
    return r.fail(`Error logging in: ${(err as Error).message}`);
  }
}

/** The `login` command. */
export const loginCommand: Command = {
  name: 'login',
  synopsis: 'Login to Consul using an auth method',
  flags: [
    { name: 'method', kind: 'string', usage: 'Name of the auth method to login to.' },
    { name: 'type', kind: 'string', usage: 'Type of the auth method to login to. This field is optional and defaults to no type. Required for type=oidc auth method login.' },
    { name: 'oidc-callback-listen-addr', kind: 'string', default: '127.0.0.1:8550', usage: 'The address to bind a webserver on to handle the browser callback from the OIDC workflow.' },
    { name: 'bearer-token-file', kind: 'string', usage: 'Path to a file containing a secret bearer token to use with this auth method.' },
    { name: 'token-sink-file', kind: 'string', usage: 'The most recent token\'s SecretID is kept up to date in this file.' },
    listFlag('meta', 'Metadata to set on the token, formatted as key=value. This flag may be specified multiple times to set multiple meta fields.'),
    ...ACL_HTTP_FLAGS,
  ],
  help: `
Usage: proconsul login [options]

  The login command will exchange the provided third party credentials with the
  requested auth method for a newly minted Consul ACL token. The companion
  command 'proconsul logout' should be used to destroy any tokens created this way
  to avoid a resource leak.

      $ proconsul login -method=jwt-idp -bearer-token-file=/var/run/jwt -token-sink-file=consul.token

  Single sign-on through an OIDC provider (opens the browser; the method's
  AllowedRedirectURIs must include http://localhost:8550/oidc/callback):

      $ proconsul login -type=oidc -method=sso -token-sink-file=consul.token
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      if (r.flags.args.length > 0) return r.fail('Should have no non-flag arguments.');
      const method = r.str('method');
      if (method === '') return r.fail('Missing required \'-method\' flag');
      const sink = r.str('token-sink-file');
      if (sink === '') return r.fail('Missing required \'-token-sink-file\' flag');
      let token: ACLToken | number;
      if (r.str('type') === 'oidc') {
        try {
          token = await oidcLogin(r.client, io, { method, listenAddr: r.str('oidc-callback-listen-addr') || '127.0.0.1:8550', meta: metaFlag(r.list('meta')) });
        } catch (err) {
          return r.fail(`Error logging in: ${(err as Error).message}`);
        }
      } else {
        token = await bearerLogin(r, method);
      }
      if (typeof token === 'number') return token;
      try {
        await writeFile(sink, token.SecretID, { mode: 0o600 });
      } catch (err) {
        return r.fail(`Error writing token to file sink: ${(err as Error).message}`);
      }
      return 0;
    });
  },
};
