// The HTTP API flags every command that talks to an agent accepts (command/flags/http.go) and
// the client they build: flags win over CONSUL_* variables, and a token file beats a token.

import { ConfigError, ConsulClient, readTokenFile } from '../api/index.ts';
import { ui, type CliIO } from './io.ts';
import type { ParsedFlags } from './flags.ts';

export { HTTP_CLIENT_FLAGS, HTTP_SERVER_FLAGS, HTTP_FLAGS, HTTP_FLAG_NAMES, MULTI_TENANCY_FLAGS, PARTITION_FLAGS } from './http-flag-defs.ts';

/** Builds the client from parsed flags and the environment; throws ConfigError as Go's APIClient() errors. */
export function clientFromFlags(flags: ParsedFlags, env: NodeJS.ProcessEnv): ConsulClient {
  const str = (name: string): string | undefined => (flags.given.has(name) ? String(flags.values[name]) : undefined);
  // Consul reads a token file (flag or CONSUL_HTTP_TOKEN_FILE) over any token, flag included.
  const tokenFile = str('token-file') ?? env.CONSUL_HTTP_TOKEN_FILE;
  let token = str('token') ?? env.CONSUL_HTTP_TOKEN ?? '';
  if (tokenFile) token = readTokenFile(tokenFile) || token;
  return new ConsulClient({
    address: str('http-addr'),
    token,
    datacenter: str('datacenter'),
    namespace: str('namespace'),
    partition: str('partition'),
    tls: {
      caFile: str('ca-file'), caPath: str('ca-path'), clientCert: str('client-cert'),
      clientKey: str('client-key'), serverName: str('tls-server-name'),
    },
    env,
  });
}

/** Whether `-stale` was given. */
export function staleFlag(flags: ParsedFlags): boolean {
  return flags.values.stale === true;
}

/** Builds the client from the HTTP flags; prints Consul's connect error and returns null on bad settings. */
export function openClient(flags: ParsedFlags, io: CliIO): ConsulClient | null {
  try {
    return clientFromFlags(flags, io.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    ui(io).error(`Error connecting to Consul agent: ${err.message}`);
    return null;
  }
}
