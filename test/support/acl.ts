// ACL test agents and raw HTTP calls to them: the default-deny config with the `root`
// management token, a request helper answering status, text and parsed JSON, and tokens made
// from inline rules.
import assert from 'node:assert/strict';
import type { RuntimeConfig } from '../../src/index.ts';
import { devConfig, startDevAgent, type DevAgent } from './agent.ts';

/** The initial management token of ACL test agents. */
export const ROOT = 'root';

/** Config overrides for an agent with ACLs on, default policy deny and ROOT as initial management token. */
export function aclDenyConfig(): Partial<RuntimeConfig> {
  const acl = devConfig().acl;
  return { acl: { ...acl, enabled: true, defaultPolicy: 'deny', tokens: { ...acl.tokens, initialManagement: ROOT } } };
}

/** Starts a dev agent with aclDenyConfig(); call stop() in an after hook. */
export function startAclAgent(): Promise<DevAgent> {
  return startDevAgent({ config: aclDenyConfig() });
}

/** One HTTP answer: status, body text, the body parsed as JSON (undefined when it is not JSON) and the headers. */
export interface HttpAnswer {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

/** A request to the agent: the token goes as X-Consul-Token; a string body is sent as is, anything else as JSON. */
export type HttpCall = (method: string, path: string, token?: string, body?: unknown) => Promise<HttpAnswer>;

/** Requests to the agent at `addr()` (read per call, so it may be set in a before hook). */
export function httpCaller(addr: () => string): HttpCall {
  return async (method, path, token = '', body) => {
    const res = await fetch(`http://${addr()}${path}`, {
      method, headers: token ? { 'X-Consul-Token': token } : {},
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, text, json, headers: res.headers };
  };
}

/** Creates a policy with `rules` and a token linked to it, through ROOT; asserts both succeed. */
export async function tokenWithRules(call: HttpCall, rules: string): Promise<{ SecretID: string; AccessorID: string }> {
  const p = await call('PUT', '/v1/acl/policy', ROOT, { Name: `p-${Math.random().toString(36).slice(2)}`, Rules: rules });
  assert.equal(p.status, 200, p.text);
  const t = await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ ID: p.json.ID }] });
  assert.equal(t.status, 200, t.text);
  return t.json;
}
