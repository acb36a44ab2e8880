// `proconsul acl init`: turns a running agent into a secure default in one step, without a restart —
// ACLs switched on with default_policy deny (/v1/agent/acl/enable, from the agent's own host),
// bootstrap (or use -token), an agent token and a read-only DNS token with Consul-style rules,
// both set on the agent through /v1/agent/token/*, and everything printed.

import type { ConsulClient } from '../api/index.ts';
import { runWithClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';

/** Consul's documented rules for a DNS token: discovery only. */
export const DNS_TOKEN_RULES = 'node_prefix "" {\n  policy = "read"\n}\nservice_prefix "" {\n  policy = "read"\n}\nquery_prefix "" {\n  policy = "read"\n}\n';

/** Consul's documented rules for an agent token on node `node`. */
export function agentTokenRules(node: string): string {
  return `node "${node}" {\n  policy = "write"\n}\nservice_prefix "" {\n  policy = "read"\n}\n`;
}

async function api(client: ConsulClient, token: string, method: 'GET' | 'PUT', path: string, json?: unknown): Promise<any> {
  const res = await client.request({ method, path, json, options: { token } });
  return res.body.length ? JSON.parse(res.body.toString('utf8')) : undefined;
}

// A policy from an earlier run is reused, so running init again only issues new tokens.
async function policyID(client: ConsulClient, mgmt: string, name: string, rules: string, description: string): Promise<string> {
  const found = await client.request({ method: 'GET', path: `/v1/acl/policy/name/${encodeURIComponent(name)}`, accept: [404], options: { token: mgmt } });
  if (found.status === 200) return JSON.parse(found.body.toString('utf8')).ID as string;
  return (await api(client, mgmt, 'PUT', '/v1/acl/policy', { Name: name, Description: description, Rules: rules })).ID as string;
}

async function tokenFor(client: ConsulClient, mgmt: string, name: string, rules: string, description: string): Promise<string> {
  const policy = { ID: await policyID(client, mgmt, name, rules, description) };
  const token = await api(client, mgmt, 'PUT', '/v1/acl/token', { Description: description, Policies: [{ ID: policy.ID }] });
  return token.SecretID as string;
}

/** The `acl init` command. */
export const aclInitCommand: Command = {
  name: 'acl init',
  synopsis: 'Bootstrap ACLs and set the agent and DNS tokens in one step',
  flags: [...HTTP_CLIENT_FLAGS],
  help: `
Usage: proconsul acl init [options]

  Turns ACLs on in the running agent if they are off (default_policy deny; run
  it on the agent's own host), bootstraps the ACL system (unless -token gives
  an existing management token), creates an agent token and a read-only DNS
  token, sets both on the agent and prints every secret:

      $ proconsul acl init

  No restart is needed. With a data dir the agent keeps ACLs on (and the
  agent and DNS tokens) across restarts; otherwise put this in its config:

      acl { enabled = true, default_policy = "deny", enable_token_persistence = true }

  Keep the management token safe.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    return runWithClient(this.flags, args, io, async (client) => {
      let mgmt = client.config.token;
      const enabled = await api(client, mgmt, 'PUT', '/v1/agent/acl/enable');
      if (!enabled.AlreadyEnabled) out.info(`ACLs enabled (default policy deny${enabled.Persisted ? ', saved in the data dir' : ''})`);
      if (!mgmt) mgmt = (await api(client, '', 'PUT', '/v1/acl/bootstrap')).SecretID as string;
      const self = await api(client, mgmt, 'GET', '/v1/agent/self');
      const node = self.Config.NodeName as string;
      const agent = await tokenFor(client, mgmt, `agent-${node}`, agentTokenRules(node), `Agent token for ${node}`);
      const dns = await tokenFor(client, mgmt, 'dns-read', DNS_TOKEN_RULES, 'Read-only DNS token');
      await api(client, mgmt, 'PUT', '/v1/agent/token/agent', { Token: agent });
      await api(client, mgmt, 'PUT', '/v1/agent/token/dns', { Token: dns });
      out.info(`Management token: ${mgmt}\nAgent token:      ${agent}\nDNS token:        ${dns}`);
      return 0;
    }, 'Failed to initialize ACLs');
  },
};
