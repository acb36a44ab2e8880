// The snapshot agent's auth-method login (Consul Enterprise's `login` settings and -login-*
// flags): a bearer token (file first) is exchanged at /v1/acl/login for the token the agent then
// uses instead of a static one, and the token is logged out when the agent exits.
import fs from 'node:fs/promises';
import type { ConsulClient } from '../api/index.ts';
import { settingsClient, type SnapshotAgentSettings } from './snapshot-agent-config.ts';

/** A client to run with and what to do at exit. */
export interface LoggedIn {
  client: ConsulClient;
  /** Logs the login token out (a no-op without login) and closes the client. */
  close(): Promise<void>;
}

/** Logs in when an auth method is configured; otherwise answers `client` as it is. */
export async function loginIfConfigured(settings: SnapshotAgentSettings, client: ConsulClient, env: NodeJS.ProcessEnv): Promise<LoggedIn> {
  const { authMethod, bearerToken, bearerTokenFile, meta } = settings.login;
  if (!authMethod) return { client, close: async () => client.close() };
  const bearer = bearerTokenFile
    ? (await fs.readFile(bearerTokenFile, 'utf8').catch((err: Error) => { throw new Error(`Error reading bearer token file: ${err.message}`); })).trim()
    : bearerToken;
  if (!bearer) throw new Error('No bearer token: set -login-bearer-token or -login-bearer-token-file');
  const token = (await client.acl.login({ AuthMethod: authMethod, BearerToken: bearer, Meta: meta }).catch((err: Error) => {
    throw new Error(`Error logging in: ${err.message}`);
  })).data;
  client.close();
  const loggedIn = settingsClient(settings, env, token.SecretID);
  return {
    client: loggedIn,
    close: async () => {
      await loggedIn.acl.logout().catch(() => undefined);
      loggedIn.close();
    },
  };
}
